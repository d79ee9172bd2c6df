import { createHash } from 'node:crypto'
import type { RowDataPacket } from 'mysql2/promise'
import { HandoverError } from '../../../errors.js'
import { quoteName, withoutForeignKeyChecks, type Connection } from '../../connection.js'

/**
 * Tables holding a copy of rows a contract statement changes, until its run is finished or
 * undone. They live in the journal schema, out of reach of the service's own user (they may
 * hold what a contract scrubbed), named per service schema so one service never drops
 * another's.
 */
export const ROW_SNAPSHOT_PREFIX = 'handover_rows_'

export class RowsNotRestorableError extends HandoverError {
  readonly code = 'ROWS_NOT_RESTORABLE'
}

/**
 * A copy of a table's rows taken just before a contract statement changes them. The
 * contract runs while nothing writes and its undo before anything does, so bringing the
 * table's rows back to the copy undoes the statement exactly, whatever it did to them.
 */
export interface RowSnapshot {
  table: string
  /** Where the copy is: `store`.`snapshot`. */
  store: string
  snapshot: string
  /** The primary key (or a unique key of NOT NULL columns) that matches a row with its copy. */
  key: string[]
  /** Every stored column; generated ones follow from these. */
  columns: string[]
}

/** The copy's name for a statement; the copies of tables its foreign keys cascade into add `_1`, `_2`, … */
export function snapshotName(schema: string, script: string, index: number): string {
  return `${servicePrefix(schema)}${createHash('sha256').update(`${script}\u0000${index}`).digest('hex').slice(0, 16)}`
}

function servicePrefix(schema: string): string {
  return `${ROW_SNAPSHOT_PREFIX}${createHash('sha256').update(schema).digest('hex').slice(0, 12)}_`
}

/** Stored values as they are: a 0 in an AUTO_INCREMENT column is a 0, not a new number. */
async function withValuesAsTheyAre<T>(connection: Connection, work: () => Promise<T>): Promise<T> {
  await connection.query("SET @handover_rows_sql_mode = @@SESSION.sql_mode, SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'NO_AUTO_VALUE_ON_ZERO')")
  try {
    return await work()
  } finally {
    await connection.query('SET SESSION sql_mode = @handover_rows_sql_mode')
  }
}

/**
 * Copies the rows of the table and of every table its foreign keys cascade into (a DELETE
 * there deletes or changes rows here too). A copy left by a run cut off before the
 * statement committed is taken anew. A table with triggers is refused: what they write
 * elsewhere has no copy.
 */
export async function takeRowSnapshots(connection: Connection, schema: string, table: string, store: string, prefix: string): Promise<RowSnapshot[]> {
  const tables = await cascadingFrom(connection, schema, table)
  const [triggers] = await connection.query<RowDataPacket[]>(
    'SELECT EVENT_OBJECT_TABLE AS t, TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND EVENT_OBJECT_TABLE IN (?)',
    [schema, tables],
  )
  if (triggers.length) throw new RowsNotRestorableError(`${triggers.map((row) => `${row.t} has trigger ${row.name}`).join(', ')}: what a trigger writes has no copy, so the rows cannot be brought back exactly; mark the script and give a contract-undo`)
  const snapshots: RowSnapshot[] = []
  for (const [i, name] of tables.entries()) snapshots.push(await takeRowSnapshot(connection, schema, name, store, i === 0 ? prefix : `${prefix}_${i}`))
  return snapshots
}

/**
 * The table (by its name as the server has it), then every table reachable by foreign keys
 * that cascade or set NULL, parents before children. A cascade into another schema is
 * refused: its rows would change with no copy.
 */
async function cascadingFrom(connection: Connection, schema: string, table: string): Promise<string[]> {
  const [named] = await connection.query<RowDataPacket[]>('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [schema, table])
  if (named.length === 0) throw new RowsNotRestorableError(`${table} does not exist in ${schema}`)
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT REFERENCED_TABLE_NAME AS parent, TABLE_NAME AS child, CONSTRAINT_SCHEMA AS childSchema FROM information_schema.REFERENTIAL_CONSTRAINTS
      WHERE UNIQUE_CONSTRAINT_SCHEMA = ? AND (DELETE_RULE IN ('CASCADE', 'SET NULL', 'SET DEFAULT') OR UPDATE_RULE IN ('CASCADE', 'SET NULL', 'SET DEFAULT'))`,
    [schema],
  )
  const found = [String(named[0]!.name)]
  for (let i = 0; i < found.length; i++) {
    for (const row of rows) {
      if (String(row.parent).toLowerCase() !== found[i]!.toLowerCase()) continue
      if (String(row.childSchema) !== schema) throw new RowsNotRestorableError(`a foreign key of ${row.childSchema}.${row.child} cascades from ${found[i]}: its rows would change with no copy`)
      if (!found.some((name) => name.toLowerCase() === String(row.child).toLowerCase())) found.push(String(row.child))
    }
  }
  return found
}

async function takeRowSnapshot(connection: Connection, schema: string, table: string, store: string, snapshot: string): Promise<RowSnapshot> {
  const key = await matchingKey(connection, schema, table)
  const columns = await storedColumns(connection, schema, table)
  const [source, copy] = [`${quoteName(schema)}.${quoteName(table)}`, `${quoteName(store)}.${quoteName(snapshot)}`]
  const list = columns.map(quoteName).join(', ')
  await connection.query(`DROP TABLE IF EXISTS ${copy}`)
  await connection.query(`CREATE TABLE ${copy} LIKE ${source}`)
  await withValuesAsTheyAre(connection, () => connection.query(`INSERT INTO ${copy} (${list}) SELECT ${list} FROM ${source}`))
  return { table, store, snapshot, key, columns }
}

/**
 * Brings each table's rows back to its copy, with foreign key checks off: every table the
 * statement could reach has a copy, the copies were consistent, and a cascade or a check
 * in between would only get in the way of putting them back as they were.
 */
export async function restoreRowSnapshots(connection: Connection, schema: string, snapshots: readonly RowSnapshot[], run: (sql: string) => Promise<void>): Promise<void> {
  await withoutForeignKeyChecks(connection, () =>
    withValuesAsTheyAre(connection, async () => {
      for (const rows of snapshots) await restoreRows(connection, schema, rows, run)
    }),
  )
}

/**
 * Rows the statement added or changed are deleted (changed: any stored byte differs; a
 * collation that ignores case would call 'ADA' and 'ada' equal), then every row of the copy
 * not in the table is inserted: no row is ever updated in place, so values a statement
 * shifted between rows (a unique position moved by one) cannot collide on the way back.
 * Then the table must hold exactly the copy's rows. Running it again changes nothing.
 */
async function restoreRows(connection: Connection, schema: string, rows: RowSnapshot, run: (sql: string) => Promise<void>): Promise<void> {
  const table = `${quoteName(schema)}.${quoteName(rows.table)}`
  const copy = `${quoteName(rows.store)}.${quoteName(rows.snapshot)}`
  const matched = rows.key.map((column) => `t.${quoteName(column)} = c.${quoteName(column)}`).join(' AND ')
  const firstKey = quoteName(rows.key[0]!)
  const list = rows.columns.map(quoteName).join(', ')
  const same = rows.columns.map((column) => `CAST(t.${quoteName(column)} AS BINARY) <=> CAST(c.${quoteName(column)} AS BINARY)`).join(' AND ')
  await run(`DELETE t FROM ${table} t LEFT JOIN ${copy} c ON ${matched} WHERE c.${firstKey} IS NULL OR NOT (${same})`)
  await run(`INSERT INTO ${table} (${list}) SELECT ${rows.columns.map((column) => `c.${quoteName(column)}`).join(', ')} FROM ${copy} c LEFT JOIN ${table} t ON ${matched} WHERE t.${firstKey} IS NULL`)
  const bytes = rows.columns.map((column) => `CAST(${quoteName(column)} AS BINARY)`).join(', ')
  const [differ] = await connection.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM ((SELECT ${bytes} FROM ${table} EXCEPT SELECT ${bytes} FROM ${copy}) UNION ALL (SELECT ${bytes} FROM ${copy} EXCEPT SELECT ${bytes} FROM ${table})) d`,
  )
  if (Number(differ[0]!.n) !== 0) throw new RowsNotRestorableError(`${rows.table} still differs from its rows before the contract in ${Number(differ[0]!.n)} row(s) after the undo`)
}

export async function dropSnapshot(connection: Connection, rows: Pick<RowSnapshot, 'store' | 'snapshot'>): Promise<void> {
  await connection.query(`DROP TABLE IF EXISTS ${quoteName(rows.store)}.${quoteName(rows.snapshot)}`)
}

/** Every copy of rows of the service schema `schema` kept in `store`: a finished run needs none, and they hold the service's data. */
export async function dropAllSnapshots(connection: Connection, store: string, schema: string): Promise<string[]> {
  const [tables] = await connection.query<RowDataPacket[]>(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE CONCAT(?, '%')",
    [store, servicePrefix(schema).replace(/_/g, '\\_')],
  )
  const names = tables.map((row) => String(row.name))
  for (const name of names) await dropSnapshot(connection, { store, snapshot: name })
  return names
}

/** The primary key, else the first unique key whose columns are all NOT NULL. */
async function matchingKey(connection: Connection, schema: string, table: string): Promise<string[]> {
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT s.INDEX_NAME AS name, s.COLUMN_NAME AS col, c.IS_NULLABLE AS nullable, s.SUB_PART AS prefix
       FROM information_schema.STATISTICS s
       JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME
      WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0
      ORDER BY s.INDEX_NAME <> 'PRIMARY', s.INDEX_NAME, s.SEQ_IN_INDEX`,
    [schema, table],
  )
  const keys = new Map<string, { columns: string[]; nullable: boolean }>()
  for (const row of rows) {
    const key = keys.get(String(row.name)) ?? { columns: [], nullable: false }
    key.columns.push(String(row.col))
    // A prefix key tells rows apart only by part of a column: it cannot match a row with its copy.
    key.nullable ||= row.nullable === 'YES' || row.prefix !== null
    keys.set(String(row.name), key)
  }
  const key = [...keys.values()].find((candidate) => !candidate.nullable)
  if (!key) throw new RowsNotRestorableError(`${table} has no primary key or unique key of whole NOT NULL columns, so its rows cannot be matched with a copy for an undo`)
  return key.columns
}

async function storedColumns(connection: Connection, schema: string, table: string): Promise<string[]> {
  const [rows] = await connection.query<RowDataPacket[]>(
    "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND IS_GENERATED = 'NEVER' ORDER BY ORDINAL_POSITION",
    [schema, table],
  )
  return rows.map((row) => String(row.name))
}

/**
 * The contract data changes whose rows could not be copied because a table they reach has
 * triggers, found before anything runs: the structure-only copy the rehearsal works on has
 * no triggers, and finding them at the contract would mean a rollback while requests wait.
 */
export async function triggerProblems(connection: Connection, schema: string, statements: readonly { where: string; table: string }[]): Promise<string[]> {
  const problems: string[] = []
  for (const { where, table } of statements) {
    const [exists] = await connection.query<RowDataPacket[]>('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [schema, table])
    if (exists.length === 0) continue
    const tables = await cascadingFrom(connection, schema, table).catch((error: unknown) => {
      if (error instanceof RowsNotRestorableError) problems.push(`${where}: ${error.message}`)
      return []
    })
    if (tables.length === 0) continue
    const [triggers] = await connection.query<RowDataPacket[]>(
      'SELECT EVENT_OBJECT_TABLE AS t, TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND EVENT_OBJECT_TABLE IN (?)',
      [schema, tables],
    )
    if (triggers.length) problems.push(`${where}: ${triggers.map((row) => `${row.t} has trigger ${row.name}`).join(', ')}: what a trigger writes has no copy, so handover cannot undo this data change; mark the script and give a \`-- handover:contract-undo\``)
  }
  return problems
}
