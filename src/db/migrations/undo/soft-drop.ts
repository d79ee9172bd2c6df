import type { RowDataPacket } from 'mysql2/promise'
import { HandoverError } from '../../../errors.js'
import type { ClassifiedStatement } from '../../classifier/index.js'
import { quoteName, tableExists, type Connection } from '../../connection.js'

export const SOFT_DROP_PREFIX = '_handover_'

/** A column or table a contract "dropped" by renaming it, and what it takes to bring it back. */
export interface SoftDrop {
  script: string
  table: string
  /** Absent for a dropped table. */
  column?: string
  softName: string
  /** The column's definition as SHOW CREATE TABLE gave it, to restore it exactly. */
  definition?: string
  /** The contract statement it stands for, so an undo restores it in its turn among the others. */
  index?: number
}

export class SoftDropError extends HandoverError {
  readonly code = 'SOFT_DROP_FAILED'
}

/**
 * The rename that stands in for a DROP, or undefined when the statement is not a plain drop
 * of one column or one table (or drops something already gone, with IF EXISTS). A NOT NULL
 * column with no default gets one, so the new version's inserts, which leave it out, still
 * succeed; renaming and setting a default are both instant.
 */
export async function softDropFor(connection: Connection, schema: string, script: string, classified: ClassifiedStatement | undefined): Promise<{ sql: string; drop: SoftDrop } | undefined> {
  if (!classified?.table || classified.clauses.length !== 1) return undefined
  const table = classified.table
  if (classified.kind === 'drop-table') {
    if (!(await tableExists(connection, schema, table))) return undefined
    const softName = softNameOf(table)
    return { sql: `RENAME TABLE ${quoteName(schema)}.${quoteName(table)} TO ${quoteName(schema)}.${quoteName(softName)}`, drop: { script, table, softName } }
  }
  if (classified.kind !== 'drop-column' || !classified.column) return undefined
  const definition = await columnDefinition(connection, schema, table, classified.column)
  if (!definition) return undefined
  const column = definition.name
  const softName = softNameOf(column)
  const qualified = `${quoteName(schema)}.${quoteName(table)}`
  const needsDefault = /\bNOT NULL\b/i.test(definition.rest) && !/\bDEFAULT\b/i.test(definition.rest)
  const sql = needsDefault
    ? `ALTER TABLE ${qualified} CHANGE COLUMN ${quoteName(column)} ${quoteName(softName)} ${definition.rest} DEFAULT ${await zeroValue(connection, schema, table, column)}`
    : `ALTER TABLE ${qualified} RENAME COLUMN ${quoteName(column)} TO ${quoteName(softName)}`
  return { sql, drop: { script, table, column, softName, definition: definition.rest } }
}

/** Puts a soft-dropped object back under its name, exactly as it was. */
export function restoreSql(schema: string, drop: SoftDrop): string {
  const table = `${quoteName(schema)}.${quoteName(drop.table)}`
  if (!drop.column) return `RENAME TABLE ${quoteName(schema)}.${quoteName(drop.softName)} TO ${table}`
  return `ALTER TABLE ${table} CHANGE COLUMN ${quoteName(drop.softName)} ${quoteName(drop.column)} ${drop.definition}`
}

/** The real drop, once the new version has served past the retention. */
export function purgeSql(schema: string, drop: SoftDrop): string {
  if (!drop.column) return `DROP TABLE IF EXISTS ${quoteName(schema)}.${quoteName(drop.softName)}`
  return `ALTER TABLE ${quoteName(schema)}.${quoteName(drop.table)} DROP COLUMN IF EXISTS ${quoteName(drop.softName)}`
}

function softNameOf(name: string): string {
  const soft = `${SOFT_DROP_PREFIX}${name}`
  if (soft.length > 64) throw new SoftDropError(`cannot keep ${name} as ${soft}: names are at most 64 characters; drop it in a script marked with -- handover:contract and a contract-undo part`)
  return soft
}

/** The column's line of SHOW CREATE TABLE, split into its exact name and the rest. */
async function columnDefinition(connection: Connection, schema: string, table: string, column: string): Promise<{ name: string; rest: string } | undefined> {
  if (!(await tableExists(connection, schema, table))) return undefined
  const [rows] = await connection.query<RowDataPacket[]>(`SHOW CREATE TABLE ${quoteName(schema)}.${quoteName(table)}`)
  for (const line of String(rows[0]!['Create Table']).split('\n')) {
    const match = /^\s*`((?:[^`]|``)+)`\s+(.*?),?$/.exec(line)
    if (match && match[1]!.replace(/``/g, '`').toLowerCase() === column.toLowerCase()) return { name: match[1]!.replace(/``/g, '`'), rest: match[2]! }
  }
  return undefined
}

/** A default every value of the column's type accepts. */
async function zeroValue(connection: Connection, schema: string, table: string, column: string): Promise<string> {
  const [rows] = await connection.query<RowDataPacket[]>(
    'SELECT data_type AS type, column_type AS full FROM information_schema.columns WHERE table_schema = ? AND table_name = ? AND column_name = ?',
    [schema, table, column],
  )
  const type = String(rows[0]?.type ?? '').toLowerCase()
  if (/int|decimal|numeric|float|double|bit|real/.test(type)) return '0'
  if (type === 'enum') return connection.escape(/^enum\('((?:[^']|'')*)'/i.exec(String(rows[0]!.full))?.[1]?.replace(/''/g, "'") ?? '')
  if (type === 'date') return "'1970-01-01'"
  if (type === 'datetime' || type === 'timestamp') return "'1970-01-01 00:00:01'"
  if (type === 'time') return "'00:00:00'"
  if (type === 'year') return '1970'
  if (/char|text|blob|binary|set|json/.test(type)) return "''"
  throw new SoftDropError(`cannot keep ${table}.${column} (type ${type}) for undo: no default fits it; drop it in a script marked with -- handover:contract and a contract-undo part`)
}
