import sqlParser from 'node-sql-parser/build/mysql.js'
import { identifier, isNode, type Node } from '../classifier/ast.js'
import { quoteName } from '../migrations/scripts/sql-statements.js'
import { textOf, updateLayout, type Span, type UpdateLayout } from './statement-layout.js'

/**
 * What a backfill UPDATE does to one row, when that can be said without the rest of the
 * table: each assignment's expression and the condition, with every column read from the
 * row being written (`NEW.col`), so a trigger can apply exactly the backfill to every row
 * the old version writes. Otherwise the reason it cannot, and the capture falls back to
 * recording the keys of written rows and replaying the statement for them.
 */
export type BackfillShape = RowBackfill | KeyedBackfill

export interface RowBackfill {
  perRow: true
  table: string
  /** The columns it sets, in order, each with its expression over NEW. */
  assignments: { column: string; expression: string }[]
  /** The WHERE over NEW; undefined when the statement has none. */
  condition?: string
  /** Every column it reads, lower-cased. */
  reads: string[]
  /** Where a key range goes in the statement's text, for running it in chunks. */
  chunking: Chunking
}

export interface KeyedBackfill {
  perRow: false
  table: string
  columns: string[]
  /** Why a trigger cannot apply it row by row. */
  reason: string
  /** Absent when the statement cannot be limited to a key range (ORDER BY, LIMIT, a join). */
  chunking?: Chunking
}

/** The statement's text around its condition: `head WHERE (condition) AND <range> ` */
export interface Chunking {
  head: string
  condition?: string
}

/** Functions whose value differs from call to call or from session to session. */
const VOLATILE_FUNCTIONS = new Set([
  'NOW', 'CURRENT_TIMESTAMP', 'CURRENT_DATE', 'CURRENT_TIME', 'CURDATE', 'CURTIME', 'SYSDATE', 'UTC_TIMESTAMP', 'UTC_DATE',
  'UTC_TIME', 'LOCALTIME', 'LOCALTIMESTAMP', 'UNIX_TIMESTAMP', 'RAND', 'UUID', 'UUID_SHORT', 'SYS_GUID', 'CONNECTION_ID',
  'LAST_INSERT_ID', 'USER', 'CURRENT_USER', 'SESSION_USER', 'SYSTEM_USER', 'DATABASE', 'SCHEMA', 'FOUND_ROWS', 'ROW_COUNT',
  'NEXTVAL', 'LASTVAL', 'SETVAL', 'SLEEP', 'BENCHMARK', 'GET_LOCK', 'RELEASE_LOCK', 'LOAD_FILE', 'MASTER_POS_WAIT',
])

const parser = new sqlParser.Parser()
const OPTIONS = { database: 'MySQL', parseOptions: { includeLocations: true } }

/** The shape of a backfill UPDATE; undefined for anything else (INSERT ... SELECT, unreadable text). */
export function backfillShape(sql: string): BackfillShape | undefined {
  let ast: Node
  try {
    const parsed = parser.parse(sql, OPTIONS as never) as { ast: unknown }
    const asts = Array.isArray(parsed.ast) ? parsed.ast : [parsed.ast]
    if (asts.length !== 1 || !isNode(asts[0]) || asts[0].type !== 'update') return undefined
    ast = asts[0]
  } catch {
    return undefined
  }
  const tables = Array.isArray(ast.table) ? ast.table.filter(isNode) : []
  const target = tables[0]
  const table = target ? identifier(target.table) : undefined
  if (!table || !Array.isArray(ast.set)) return undefined
  const columns = ast.set.filter(isNode).map((assignment) => identifier(assignment.column) ?? '')
  const layout = tables.length === 1 ? updateLayout(sql) : undefined
  const keyed = (reason: string): KeyedBackfill => {
    const shape: KeyedBackfill = { perRow: false, table, columns, reason }
    if (layout && !layout.hasTail) shape.chunking = chunkingOf(sql, layout)
    return shape
  }
  if (tables.length !== 1) return keyed('it reads other tables through a join')
  if (identifier(target!.db)) return { perRow: false, table, columns, reason: 'it names its table with a schema' }
  if (!layout) return keyed('its SET clause could not be located in its text')
  if (layout.hasTail) return keyed('it has ORDER BY or LIMIT, which depend on other rows')
  if (layout.assignments.length !== columns.length) return keyed('its SET clause could not be located in its text')
  const aliases = new Set([table.toLowerCase(), String(target!.as ?? '').toLowerCase()].filter(Boolean))
  const problem = rowLocalProblem([ast.set, ast.where], aliases)
  if (problem) return keyed(problem)
  const refs = columnRefs([ast.set, ast.where])
  const assignments = layout.assignments.map((assignment, i) => ({ column: columns[i]!, expression: overNew(sql, assignment.expression, refs) }))
  const reads = [...new Set(refs.map((ref) => ref.column.toLowerCase()))]
  const shape: RowBackfill = { perRow: true, table, assignments, reads, chunking: chunkingOf(sql, layout) }
  if (layout.where) shape.condition = overNew(sql, layout.where, refs)
  return shape
}

function chunkingOf(sql: string, layout: UpdateLayout): Chunking {
  return layout.where
    ? { head: sql.slice(0, layout.where.start).replace(/WHERE\s*$/i, ''), condition: textOf(sql, layout.where) }
    : { head: sql.slice(0, layout.set.end) }
}

interface ColumnRef {
  column: string
  start: number
  end: number
}

/** Why the values read are not all the row's own, or undefined when they are. */
function rowLocalProblem(roots: unknown[], aliases: Set<string>): string | undefined {
  let problem: string | undefined
  visit(roots, (node) => {
    if (problem) return
    if (node.type === 'select' || isNode(node.ast)) problem = 'it reads other rows through a subquery'
    else if (node.type === 'var' || node.type === 'param') problem = 'it reads a variable or parameter'
    else if (node.type === 'function' && VOLATILE_FUNCTIONS.has(functionName(node))) problem = `${functionName(node)}() gives a different value on each call`
    else if (node.type === 'column_ref') {
      const qualifier = identifier(node.table)
      if (qualifier && !aliases.has(qualifier.toLowerCase())) problem = `it reads ${qualifier}.${identifier(node.column) ?? '?'}, not a column of the row`
      else if (!isNode(node.loc)) problem = 'a column it reads could not be located in its text'
    }
  })
  return problem
}

function columnRefs(roots: unknown[]): ColumnRef[] {
  const refs: ColumnRef[] = []
  visit(roots, (node) => {
    if (node.type !== 'column_ref' || !isNode(node.loc)) return
    const loc = node.loc as { start: { offset: number }; end: { offset: number } }
    refs.push({ column: identifier(node.column) ?? '', start: loc.start.offset, end: loc.end.offset })
  })
  return refs
}

/** The text of `span` with every column reference in it replaced by NEW.`column`. */
function overNew(sql: string, span: Span, refs: ColumnRef[]): string {
  const inside = refs.filter((ref) => ref.start >= span.start && ref.end <= span.end).sort((a, b) => a.start - b.start)
  let text = ''
  let at = span.start
  for (const ref of inside) {
    text += sql.slice(at, ref.start) + `NEW.${quoteName(ref.column)}`
    at = ref.end
  }
  return text + sql.slice(at, span.end)
}

function functionName(node: Node): string {
  const name = isNode(node.name) && Array.isArray(node.name.name) ? node.name.name.filter(isNode).map((part) => String(part.value ?? '')).join('.') : String(node.name ?? '')
  return name.toUpperCase()
}

function visit(value: unknown, each: (node: Node) => void): void {
  if (Array.isArray(value)) return value.forEach((item) => visit(item, each))
  if (!isNode(value)) return
  each(value)
  for (const [key, child] of Object.entries(value)) if (key !== 'loc') visit(child, each)
}
