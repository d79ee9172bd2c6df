import t from 'tap'
import { refuseOtherSchemas, withoutSchemaQualifiers } from '../../../src/db/migrations/scripts/schema-qualifiers.js'
import { parseScript } from '../../../src/db/migrations/scripts/migration-script.js'

const strip = (sql: string, names = ['shop', 'VendorDB']) => withoutSchemaQualifiers({ sql, line: 1 }, names).sql

t.test('a table qualified by database.schema or a vendor alias loses the qualifier, bare or backticked', async (t) => {
  t.equal(strip('ALTER TABLE shop.orders ADD COLUMN x INT'), 'ALTER TABLE orders ADD COLUMN x INT')
  t.equal(strip('INSERT INTO `shop` . `orders` (id) SELECT id FROM vendordb.old_orders'), 'INSERT INTO `orders` (id) SELECT id FROM old_orders')
  t.equal(strip('CREATE INDEX i ON `VendorDB`.orders (a)'), 'CREATE INDEX i ON orders (a)')
})

t.test('column references, strings and other names are left as written', async (t) => {
  for (const sql of [
    'UPDATE orders SET orders.note = shop_note.x',
    "UPDATE orders SET note = 'shop.orders'",
    'UPDATE orders SET note = "shop.orders"',
    'UPDATE orders o SET o.shop = 1',
    'SELECT 1 FROM other.orders',
    'ALTER TABLE orders ADD COLUMN shop INT',
    'UPDATE t SET x = 1.5',
  ]) {
    t.equal(strip(sql), sql, sql)
  }
  t.equal(strip('SELECT a.shop.x FROM t'), 'SELECT a.shop.x FROM t', 'the middle name of a three-part reference is not a schema qualifier')
})

t.test('a statement naming another schema is refused with its file and line', async (t) => {
  for (const sql of ['ALTER TABLE other.orders ADD COLUMN x INT', 'INSERT INTO orders SELECT * FROM other.orders', 'DROP TABLE `other`.`orders`', 'RENAME TABLE orders TO other.orders']) {
    t.throws(() => refuseOtherSchemas('/m/v2.sql', { sql, line: 7 }), { name: 'InvalidInputError', message: /^\/m\/v2\.sql:7: names the schema other: every statement runs in database\.schema/ }, sql)
  }
  t.doesNotThrow(() => refuseOtherSchemas('/m/v2.sql', { sql: "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'orders'", line: 1 }), 'information_schema can be read, never changed')
  t.doesNotThrow(() => refuseOtherSchemas('/m/v2.sql', { sql: 'ALTER TABLE orders ADD COLUMN x INT', line: 1 }))
})

t.test('parseScript strips the live schema name and the aliases, and refuses any other schema', async (t) => {
  const script = parseScript('/m/v2.sql', 'v2.sql', 'ALTER TABLE shop.orders ADD COLUMN x INT NULL;\nCREATE TABLE ApolloConfigDB.t (id INT PRIMARY KEY);\n', { schemaName: 'shop', schemaAliases: ['ApolloConfigDB'] })
  t.same(script.parts.expand.map((statement) => statement.sql), ['ALTER TABLE orders ADD COLUMN x INT NULL', 'CREATE TABLE t (id INT PRIMARY KEY)'])
  t.throws(() => parseScript('/m/v2.sql', 'v2.sql', 'ALTER TABLE orders ADD COLUMN x INT NULL;\n\nALTER TABLE shop.orders ADD COLUMN y INT NULL;\n'), { name: 'InvalidInputError', message: /v2\.sql:3: names the schema shop/ }, 'without schemaName the live schema is another schema')
})
