import type { SchemaModel } from '../../../src/db/classifier/index.js'

/** The live schema the table-driven tests classify against (as information_schema gives it). */
export const SHOP_SCHEMA: SchemaModel = {
  tables: {
    orders: {
      id: { type: 'int(11)', nullable: false, hasDefault: false },
      customer_id: { type: 'int(11)', nullable: false, hasDefault: false },
      note: { type: 'varchar(50)', nullable: true, hasDefault: false },
      status: { type: "enum('new','paid','shipped')", nullable: false, hasDefault: true },
      total: { type: 'decimal(10,2)', nullable: false, hasDefault: true },
      code: { type: 'char(8)', nullable: true, hasDefault: false },
      qty: { type: 'smallint(5) unsigned', nullable: false, hasDefault: true },
      created_at: { type: 'datetime', nullable: false, hasDefault: true },
      amount: { type: 'bigint(20)', nullable: true, hasDefault: false },
      tags: { type: "set('gift','rush')", nullable: true, hasDefault: false },
      ref: { type: 'varchar(64)', nullable: true, hasDefault: false, charset: 'utf8mb4', collation: 'utf8mb4_general_ci' },
    },
    users: {
      id: { type: 'bigint(20) unsigned', nullable: false, hasDefault: false },
      email: { type: 'varchar(191)', nullable: false, hasDefault: false },
      name: { type: 'varchar(100)', nullable: true, hasDefault: false },
      bio: { type: 'text', nullable: true, hasDefault: false },
      age: { type: 'tinyint(3) unsigned', nullable: true, hasDefault: false },
      score: { type: 'float', nullable: true, hasDefault: false },
      uuid: { type: 'binary(16)', nullable: true, hasDefault: false },
      active: { type: 'tinyint(1)', nullable: false, hasDefault: true },
    },
    customers: {
      id: { type: 'int(11)', nullable: false, hasDefault: false },
      name: { type: 'varchar(100)', nullable: false, hasDefault: false },
    },
  },
}
