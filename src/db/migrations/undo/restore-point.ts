import { HandoverError } from '../../../errors.js'
import type { ClassifiedStatement } from '../../classifier/index.js'
import type { Kind } from '../../classifier/kinds.js'
import { quoteName, withoutForeignKeyChecks, type Connection } from '../../connection.js'
import { restoreStatements, RestoreRefusedError } from '../../ddl/definition-restore.js'
import { definitionDifference, readDefinition, sameDefinition, type TableDefinition } from '../../ddl/table-definition.js'
import { restoreRowSnapshots, snapshotName, takeRowSnapshots, type RowSnapshot } from './row-snapshot.js'

/**
 * Contract changes that alter only a table's definition, never a stored value: renames,
 * keys, constraints, NOT NULL, defaults, AUTO_INCREMENT, and narrowings the server refuses
 * in strict mode rather than carry out on a value that does not fit. The contract runs
 * while nothing writes and its undo runs before anything does, so putting back the table's
 * definition as it was before the statement undoes it exactly. Kinds of the expand may sit
 * in the same ALTER: their change is reversed with the rest.
 */
const RESTORABLE_KINDS = new Set<Kind>([
  'rename-table',
  'rename-column',
  'add-not-null-column',
  'set-not-null',
  'drop-default',
  'narrow-column',
  'drop-auto-increment',
  'drop-index',
  'add-unique-index',
  'add-primary-key',
  'drop-primary-key',
  'add-foreign-key',
  'drop-foreign-key',
  'add-check',
  'drop-constraint',
  'add-column',
  'add-index',
  'widen-column',
  'drop-not-null',
  'restate-column',
  'add-auto-increment',
  'replace-index',
])

export class UndoInexactError extends HandoverError {
  readonly code = 'UNDO_INEXACT'
}

/** How a contract statement of a script without markers is undone, if handover can: see restorePointOf. */
export type RestoreBy = 'definition' | 'rows'

/**
 * `definition`: the statement changes only definitions (RESTORABLE_KINDS), and putting
 * them back undoes it. `rows`: a data change of one existing table, undone by bringing its
 * rows back to a copy taken just before (the contract runs while nothing writes, so the copy
 * is exact; it costs a copy of the table while requests are held, which the hold estimate
 * counts).
 */
export function restoredBy(classified: ClassifiedStatement | undefined): RestoreBy | undefined {
  if (!classified || classified.clauses.length === 0 || classified.database !== undefined) return undefined
  if (classified.clauses.some((clause) => clause.database !== undefined)) return undefined
  if (classified.clauses.every((clause) => RESTORABLE_KINDS.has(clause.kind) && !clause.valuesMayChange)) return 'definition'
  if (classified.clauses.length === 1 && classified.kind === 'dml') return 'rows'
  return undefined
}

/** What a statement's undo puts back, taken just before it runs: its tables' definitions, or a copy of the rows it changes. */
export interface RestorePoint {
  tables: { table: string; renamedTo?: string; definition: TableDefinition }[]
  /** Per table: a renamed column's new name (lower case) → its name before. */
  renamedColumns: Record<string, Record<string, string>>
  rows?: RowSnapshot[]
}

/**
 * `store` is the schema copies of rows go to; `script` and `index` name the copy, so a run
 * that takes it again replaces its own.
 */
export async function takeRestorePoint(connection: Connection, schema: string, classified: ClassifiedStatement, place: { store?: string; script?: string; index?: number } = {}): Promise<RestorePoint> {
  if (restoredBy(classified) === 'rows') {
    const name = snapshotName(schema, place.script ?? '', place.index ?? 0)
    return { tables: [], renamedColumns: {}, rows: await takeRowSnapshots(connection, schema, classified.clauses[0]!.table, place.store ?? schema, name) }
  }
  const point: RestorePoint = { tables: [], renamedColumns: {} }
  for (const clause of classified.clauses) {
    if (clause.kind === 'rename-column' && clause.column && clause.newName) {
      ;(point.renamedColumns[clause.table.toLowerCase()] ??= {})[clause.newName.toLowerCase()] = clause.column
    }
    if (point.tables.some((entry) => entry.table.toLowerCase() === clause.table.toLowerCase())) continue
    const definition = await readDefinition(connection, schema, clause.table)
    if (!definition) throw new UndoInexactError(`${clause.table} does not exist: there is no definition to restore it to`)
    point.tables.push({ table: definition.name, definition, ...(clause.kind === 'rename-table' && clause.newName ? { renamedTo: clause.newName } : {}) })
  }
  return point
}

/**
 * Puts every table of the restore point back as it was, newest change first, and checks
 * that each definition (or set of rows) is again exactly the one taken: a restore that
 * misses anything is an error, never a silent difference. Runs nothing for a statement
 * that never took effect.
 */
export async function restoreTo(connection: Connection, schema: string, point: RestorePoint, run: (sql: string) => Promise<void>): Promise<string[]> {
  const ran: string[] = []
  if (point.rows?.length) {
    await restoreRowSnapshots(connection, schema, point.rows, async (sql) => {
      await run(sql)
      ran.push(sql)
    })
  }
  for (const entry of [...point.tables].reverse()) {
    const before = entry.definition
    if (entry.renamedTo && !(await readDefinition(connection, schema, before.name)) && (await readDefinition(connection, schema, entry.renamedTo))) {
      const rename = `RENAME TABLE ${quoteName(entry.renamedTo)} TO ${quoteName(before.name)}`
      await run(rename)
      ran.push(rename)
    }
    const current = await readDefinition(connection, schema, before.name)
    if (!current) throw new UndoInexactError(`cannot restore ${before.name}: it no longer exists`)
    let statements: string[]
    try {
      statements = restoreStatements(current, before, new Map(Object.entries(point.renamedColumns[before.name.toLowerCase()] ?? {})))
    } catch (error) {
      if (error instanceof RestoreRefusedError) throw new UndoInexactError(`cannot restore ${before.name} to its definition before the contract: ${error.message}`)
      throw error
    }
    for (const sql of statements) {
      // The rows satisfied these keys before the contract, and checking them again would make the server copy the table.
      await (addsForeignKeys(sql) ? withoutForeignKeyChecks(connection, () => run(sql)) : run(sql))
      ran.push(sql)
    }
    const restored = await readDefinition(connection, schema, before.name)
    if (!restored || !sameDefinition(restored, before)) {
      throw new UndoInexactError(`${before.name} differs from its definition before the contract after the undo: ${restored ? definitionDifference(before, restored).join('; ') : 'it is gone'}`)
    }
  }
  return ran
}

/** The last ALTER of a restore, which only adds foreign keys back (see restoreStatements). */
function addsForeignKeys(sql: string): boolean {
  return /^ALTER TABLE `(?:[^`]|``)+` ADD CONSTRAINT `(?:[^`]|``)+` FOREIGN KEY /.test(sql)
}

/** Each contract data change of the scripts without markers, undone from a copy of its table's rows. */
export function rowRestoredStatements(scripts: readonly { name: string; marked: boolean; parts: { contract: readonly { line: number; classified?: ClassifiedStatement }[] } }[]): { where: string; table: string }[] {
  return scripts.flatMap((script) =>
    script.marked ? [] : script.parts.contract.flatMap((statement) => (restoredBy(statement.classified) === 'rows' ? [{ where: `${script.name}:${statement.line} (dml)`, table: statement.classified!.clauses[0]!.table }] : [])),
  )
}
