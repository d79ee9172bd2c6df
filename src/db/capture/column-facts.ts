import type { RowDataPacket } from 'mysql2/promise'
import type { Connection } from '../connection.js'

/** What a trigger needs to know of a column it writes. */
export interface ColumnFact {
  name: string
  /** The column's default as SQL a row trigger can evaluate (columns read from NEW); undefined when it has none. */
  defaultSql?: string
  nullable: boolean
  autoIncrement: boolean
}

/** The table's columns by lower-cased name, as information_schema has them. */
export async function columnFacts(connection: Connection, schema: string, table: string): Promise<Map<string, ColumnFact>> {
  const [rows] = await connection.query<RowDataPacket[]>(
    'SELECT COLUMN_NAME AS name, COLUMN_DEFAULT AS value, IS_NULLABLE AS nullable, EXTRA AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [schema, table],
  )
  const facts = new Map<string, ColumnFact>()
  for (const row of rows) {
    const fact: ColumnFact = { name: String(row.name), nullable: row.nullable === 'YES', autoIncrement: /auto_increment/i.test(String(row.extra ?? '')) }
    // information_schema gives `NULL`, quoted literals or an expression; an expression names columns in backticks.
    if (row.value !== null) fact.defaultSql = String(row.value).replace(/`((?:[^`]|``)+)`/g, (name) => `NEW.${name}`)
    else if (fact.nullable) fact.defaultSql = 'NULL'
    facts.set(fact.name.toLowerCase(), fact)
  }
  return facts
}
