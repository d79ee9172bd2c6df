import { identifier, isNode, nodes, text, unescapeName, type Node, type TableName } from '../ast.js'
import type { ObjectRef } from '../types.js'
import { classified, columnLabel, columnRef, Refusal, rowsRef, tableRef, type RuleContext, type RuleResult, type StatementRule, type Undo } from './rule.js'

const DML = new Set(['insert', 'replace', 'update', 'delete'])

/**
 * INSERT, REPLACE, UPDATE, DELETE. One that writes only columns (or into tables) this script
 * added earlier is a backfill: expand, since the old version never reads them, and run again
 * in contract for the rows the old version wrote in between. Any other DML is contract.
 */
export const dml: StatementRule = {
  matches: (ast) => typeof ast.type === 'string' && DML.has(ast.type),
  classify(ast, context) {
    const action = ast.type as string
    const targets = listed(context.tables).filter((entry) => entry.action === action || (action === 'replace' && entry.action === 'insert'))
    const target = targets[0]?.table
    if (!target || targets.length > 1) throw new Refusal(`${action.toUpperCase()} into several tables; write one statement per table`)
    const written = action === 'delete' ? [] : writtenColumns(ast, target, context)
    const touches = readRefs(context)
    const writes: ObjectRef[] = [...(action === 'update' ? [] : [rowsRef(target)]), ...(written ?? [tableRef(target)])]
    const intoNewTable = action !== 'delete' && context.state.table(target.name)?.created === true
    const backfill = intoNewTable || (written !== undefined && written.length > 0 && written.every((ref) => context.state.isAdded(ref.table, ref.column!)))
    if (!backfill) {
      const fact = `${action === 'delete' ? 'deletes rows of' : action === 'update' ? 'updates' : 'writes into'} ${target.name}${notNew(written, context)}`
      return [{ clause: classified('dml', fact, { table: target }, touches, writes) }]
    }
    return [backfillResult(ast, target, written ?? [], touches, writes)]
  },
}

function backfillResult(ast: Node, target: TableName, written: ObjectRef[], touches: ObjectRef[], writes: ObjectRef[]): RuleResult {
  const what = written.length ? written.map((ref) => columnLabel(target, ref.column!)).join(', ') : `table ${target.name}`
  const backfill = (fact: string) => classified('backfill', `backfills ${what}, added earlier in this script${fact}`, { table: target }, touches, writes)
  if (ast.type === 'update') {
    return { clause: backfill(', and runs again in contract for the rows the old version writes meanwhile'), catchUp: true, undo: { none: 'the undo of the added columns removes what it wrote' } }
  }
  const undo: Undo = { none: 'the undo of the added table or columns removes what it wrote' }
  const fromQuery = isNode(ast.values) && ast.values.type === 'select'
  if (!fromQuery) return { clause: backfill(', with fixed rows; nothing to catch up'), catchUp: false, undo }
  const idempotent = ast.type === 'replace' || /ignore/i.test(text(ast.prefix) ?? '') || isNode(ast.on_duplicate_update)
  if (idempotent) return { clause: backfill(', and runs again in contract for the rows the old version writes meanwhile'), catchUp: true, undo }
  return {
    clause: backfill('; a plain INSERT cannot run again in contract'),
    catchUp: false,
    undo,
    warning: `a plain INSERT ... SELECT cannot run again in contract without inserting rows twice, so rows the old version writes after expand will be missing from ${target.name}; write INSERT IGNORE or ON DUPLICATE KEY UPDATE so handover can catch them up`,
  }
}

/** `action::database::table` entries of the parser's table list. */
function listed(tables: string[]): { action: string; table: TableName }[] {
  return tables.map((entry) => {
    const [action = '', database = 'null', name = ''] = entry.split('::').map(unescapeName)
    return { action, table: database === 'null' ? { name } : { name, database } }
  })
}

/** The columns the statement writes, or undefined when it writes whole rows of unknown columns. */
function writtenColumns(ast: Node, target: TableName, context: RuleContext): ObjectRef[] | undefined {
  const assignments = [...nodes(ast.set), ...(isNode(ast.on_duplicate_update) ? nodes(ast.on_duplicate_update.set) : [])]
  const listedColumns = Array.isArray(ast.columns) ? ast.columns.map((column) => identifier(column) ?? String(column)) : []
  if (ast.type !== 'update' && listedColumns.length === 0 && nodes(ast.set).length === 0) {
    const table = context.state.table(target.name)
    return table?.complete ? [...table.columns.values()].map((column) => columnRef(target, column.name)) : undefined
  }
  const updated = listed(context.tables).filter((entry) => entry.action === 'update').map((entry) => entry.table)
  const fromAssignments = assignments.flatMap((assignment) => {
    const column = identifier(assignment.column)
    // `c = c` writes what is there: vendors use it to keep an ON UPDATE timestamp as it was.
    if (column && selfAssigned(assignment, column)) return []
    return column ? [columnRef(ownerOf(identifier(assignment.table), column, updated.length ? updated : [target], context), column)] : []
  })
  return [...listedColumns.map((column) => columnRef(target, column)), ...fromAssignments]
}

function selfAssigned(assignment: Node, column: string): boolean {
  const value = assignment.value
  if (!isNode(value) || value.type !== 'column_ref' || identifier(value.column)?.toLowerCase() !== column.toLowerCase()) return false
  const [left, right] = [identifier(assignment.table), identifier(value.table)]
  return left === undefined || right === undefined || left.toLowerCase() === right.toLowerCase()
}

/**
 * The table an assignment writes: the parser's column list resolves aliases; an unqualified
 * column of a multi-table UPDATE belongs to the table this script added it to, if any.
 */
function ownerOf(qualifier: string | undefined, column: string, tables: TableName[], context: RuleContext): TableName {
  if (qualifier) {
    const resolved = context.columns.map(unescapeName).find((entry) => entry.startsWith('update::') && entry.endsWith(`::${column}`))?.split('::')[1]
    const name = resolved && resolved !== 'null' ? resolved : qualifier
    return tables.find((table) => table.name === name) ?? { name }
  }
  return tables.find((table) => context.state.isAdded(table.name, column)) ?? tables[0]!
}

/** Everything the statement reads or writes: the rows of every table and every column it names. */
function readRefs(context: RuleContext): ObjectRef[] {
  const tables = listed(context.tables).map((entry) => entry.table)
  const refs: ObjectRef[] = tables.map(rowsRef)
  for (const entry of context.columns) {
    const [action, owner = 'null', column = ''] = entry.split('::').map(unescapeName)
    const owners = owner === 'null' ? tables : [{ name: owner }]
    // `*` reads every column; the parser also lists a DELETE's target as `(.*)`, which is its rows.
    const all = (table: TableName): ObjectRef => (action === 'delete' ? rowsRef(table) : tableRef(table))
    for (const table of owners) refs.push(column === '(.*)' ? all(table) : columnRef(table, column))
  }
  return refs
}

function notNew(written: ObjectRef[] | undefined, context: RuleContext): string {
  if (written === undefined) return ' (all columns)'
  const existing = written.filter((ref) => !context.state.isAdded(ref.table, ref.column!))
  return existing.length ? ` (${existing.map((ref) => `${ref.table}.${ref.column!}`).join(', ')}${existing.length > 1 ? ' exist' : ' exists'} before this script)` : ''
}
