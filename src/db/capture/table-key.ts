import type { RowDataPacket } from 'mysql2/promise'
import type { Connection } from '../connection.js'

/** A key that names every row once: the columns and their types as information_schema has them. */
export interface TableKey {
  columns: { name: string; type: string; collation: string | null }[]
}

/**
 * The primary key, or else the first unique key whose columns are all NOT NULL (what InnoDB
 * itself would cluster on). Undefined when the table has neither: its rows can be neither
 * walked in key order nor named in a change table.
 */
export async function tableKey(connection: Connection, schema: string, table: string): Promise<TableKey | undefined> {
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT s.INDEX_NAME AS index_name, s.COLUMN_NAME AS name, c.COLUMN_TYPE AS type, c.COLLATION_NAME AS collation, c.IS_NULLABLE AS nullable, s.SUB_PART AS sub_part
       FROM information_schema.STATISTICS s
       JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME
      WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0
      ORDER BY s.INDEX_NAME = 'PRIMARY' DESC, s.INDEX_NAME, s.SEQ_IN_INDEX`,
    [schema, table],
  )
  const byIndex = new Map<string, RowDataPacket[]>()
  for (const row of rows) byIndex.set(String(row.index_name), [...(byIndex.get(String(row.index_name)) ?? []), row])
  for (const columns of byIndex.values()) {
    // A prefix index does not name a row by the whole column; a NULL may repeat in a unique key;
    // binary values do not survive the progress journal's JSON, so such keys are not walked.
    if (columns.some((column) => column.nullable === 'YES' || column.sub_part !== null || /binary|blob|bit\b/i.test(String(column.type)))) continue
    return { columns: columns.map((column) => ({ name: String(column.name), type: String(column.type), collation: column.collation === null ? null : String(column.collation) })) }
  }
  return undefined
}
