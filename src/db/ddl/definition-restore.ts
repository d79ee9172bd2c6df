import { quoteName } from '../connection.js'
import type { DefinitionItem, TableDefinition } from './table-definition.js'

/** A difference a definition restore cannot reverse without losing data. */
export class RestoreRefusedError extends Error {}

/**
 * The ALTER TABLE statements that bring a table from `current` back to `before`, both its
 * definition as SHOW CREATE TABLE printed it. `renamedColumns` maps a column's current name
 * to its name before. A column only in `before` would have to come back with its values,
 * which a definition cannot give: that, and changed table options, are refused.
 *
 * Foreign keys are dropped in a statement of their own first and added in one of their own
 * last: an index a foreign key needs can then change in between, and a key dropped and
 * added under the same name never meets itself in one ALTER.
 */
export function restoreStatements(current: TableDefinition, before: TableDefinition, renamedColumns: ReadonlyMap<string, string> = new Map()): string[] {
  if (current.options !== before.options) throw new RestoreRefusedError(`the options of ${before.name} changed (${before.options} → ${current.options})`)
  const table = `ALTER TABLE ${quoteName(current.name)}`
  const changedForeignKeys = changed(current.foreignKeys, before.foreignKeys)
  const changedChecks = changed(current.checks, before.checks)
  const changedKeys = changed(current.keys, before.keys)
  const middle = [
    ...changedChecks.drop.map((item) => `DROP CONSTRAINT ${quoteName(item.name)}`),
    ...changedKeys.drop.map((item) => (item.name === 'PRIMARY' ? 'DROP PRIMARY KEY' : `DROP INDEX ${quoteName(item.name)}`)),
    ...columnClauses(current, before, renamedColumns),
    ...changedKeys.add.map((item) => `ADD ${item.line}`),
    ...changedChecks.add.map((item) => `ADD ${item.line}`),
  ]
  return [
    ...(changedForeignKeys.drop.length ? [`${table} ${changedForeignKeys.drop.map((item) => `DROP FOREIGN KEY ${quoteName(item.name)}`).join(', ')}`] : []),
    ...(middle.length ? [`${table} ${middle.join(', ')}`] : []),
    ...(changedForeignKeys.add.length ? [`${table} ${changedForeignKeys.add.map((item) => `ADD ${item.line}`).join(', ')}`] : []),
  ]
}

/** Items to drop (only now, or changed) and to add back (only before, or changed), by name. */
function changed(current: readonly DefinitionItem[], before: readonly DefinitionItem[]): { drop: DefinitionItem[]; add: DefinitionItem[] } {
  const lineBefore = new Map(before.map((item) => [item.name.toLowerCase(), item.line]))
  const lineNow = new Map(current.map((item) => [item.name.toLowerCase(), item.line]))
  return {
    drop: current.filter((item) => lineBefore.get(item.name.toLowerCase()) !== item.line),
    add: before.filter((item) => lineNow.get(item.name.toLowerCase()) !== item.line),
  }
}

/**
 * Each column whose line or place differs goes back with CHANGE (its old name, definition
 * and place); columns added since are dropped.
 */
function columnClauses(current: TableDefinition, before: TableDefinition, renamedColumns: ReadonlyMap<string, string>): string[] {
  const oldName = (name: string): string => (renamedColumns.get(name.toLowerCase()) ?? name).toLowerCase()
  const now = new Map(current.columns.map((column, position) => [oldName(column.name), { column, position }]))
  const wanted = new Set(before.columns.map((column) => column.name.toLowerCase()))
  const clauses: string[] = []
  const added = current.columns.filter((column) => !wanted.has(oldName(column.name)))
  for (const column of added) clauses.push(`DROP COLUMN ${quoteName(column.name)}`)
  // Places are compared among the columns both have, so a dropped one does not move the rest.
  const kept = current.columns.filter((column) => wanted.has(oldName(column.name))).map((column) => oldName(column.name))
  before.columns.forEach((column, position) => {
    const found = now.get(column.name.toLowerCase())
    if (!found) throw new RestoreRefusedError(`column ${before.name}.${column.name} is gone, and its values with it`)
    const moved = kept[position] !== column.name.toLowerCase()
    if (found.column.line === column.line && found.column.name === column.name && !moved) return
    const place = position === 0 ? ' FIRST' : ` AFTER ${quoteName(before.columns[position - 1]!.name)}`
    clauses.push(`CHANGE COLUMN ${quoteName(found.column.name)} ${column.line}${moved ? place : ''}`)
  })
  return clauses
}
