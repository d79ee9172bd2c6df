import type { RowDataPacket } from 'mysql2/promise'
import type { SchemaModel } from '../classifier/index.js'
import type { Connection } from '../connection.js'

/**
 * The live schema as the classifier needs it: whether a MODIFY widens or narrows a column
 * depends on the column's current type, which only the server knows.
 */
export async function loadSchemaModel(connection: Connection, schema: string): Promise<SchemaModel> {
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT c.table_name AS t, c.column_name AS c, c.column_type AS type, c.is_nullable AS nullable, c.column_default AS dflt,
            c.character_set_name AS charset, c.collation_name AS collation, c.extra AS extra, c.column_key AS ckey
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      WHERE c.table_schema = ?
      ORDER BY c.table_name, c.ordinal_position`,
    [schema],
  )
  const tables: SchemaModel['tables'] = {}
  for (const row of rows) {
    const table = (tables[String(row.t)] ??= {})
    table[String(row.c)] = {
      type: String(row.type),
      nullable: row.nullable === 'YES',
      // MariaDB reports no default as NULL and a NULL default as the text 'NULL'.
      hasDefault: row.dflt !== null,
      ...(row.charset ? { charset: String(row.charset) } : {}),
      ...(row.collation ? { collation: String(row.collation) } : {}),
      ...(/auto_increment/i.test(String(row.extra ?? '')) ? { autoIncrement: true } : {}),
      ...(row.ckey === 'PRI' ? { primaryKey: true } : {}),
    }
  }
  return { tables, indexes: await loadIndexes(connection, schema) }
}

/** Every index with its columns and prefix lengths, in key order: unnamed keys are named after them, and re-added ones compared. */
async function loadIndexes(connection: Connection, schema: string): Promise<NonNullable<SchemaModel['indexes']>> {
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT table_name AS t, index_name AS i, non_unique AS nu, column_name AS c, sub_part AS len
       FROM information_schema.statistics WHERE table_schema = ? ORDER BY table_name, index_name, seq_in_index`,
    [schema],
  )
  const indexes: NonNullable<SchemaModel['indexes']> = {}
  for (const row of rows) {
    const table = (indexes[String(row.t)] ??= [])
    let index = table.find((entry) => entry.name === String(row.i))
    if (!index) table.push((index = { name: String(row.i), unique: Number(row.nu) === 0, columns: [] }))
    index.columns.push(row.len === null ? { column: String(row.c) } : { column: String(row.c), length: Number(row.len) })
  }
  return indexes
}
