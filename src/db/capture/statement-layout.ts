import { quotedEnd } from '../migrations/scripts/sql-statements.js'

/** Where the clauses of a single-table UPDATE start and end in its text (offsets into it). */
export interface UpdateLayout {
  /** The text between SET and WHERE (or the end): the assignments. */
  set: Span
  /** Each assignment's expression (after its `=`), in order. */
  assignments: { column: Span; expression: Span }[]
  /** The condition after WHERE, when there is one. */
  where?: Span
  /** ORDER BY or LIMIT after the condition: the statement is not a plain per-row change. */
  hasTail: boolean
}

export interface Span {
  start: number
  end: number
}

/**
 * Finds an UPDATE's clauses by reading its text at parenthesis depth 0, outside quotes and
 * comments. The parser's AST has no positions for clauses, only for column references,
 * and the backfill's own text must be kept as written when it is moved into a trigger or
 * given a key range.
 */
export function updateLayout(sql: string): UpdateLayout | undefined {
  const words = topLevelWords(sql)
  const set = words.find((word) => word.upper === 'SET')
  if (!set) return undefined
  const where = words.find((word) => word.upper === 'WHERE' && word.start > set.start)
  const tail = words.find((word) => (word.upper === 'ORDER' || word.upper === 'LIMIT') && word.start > (where ?? set).start)
  const setEnd = where?.start ?? tail?.start ?? trimmedEnd(sql)
  const setSpan = { start: set.end, end: setEnd }
  const assignments = splitTopLevel(sql, setSpan, ',').map((span) => {
    const equals = firstTopLevel(sql, span, '=')
    return equals === undefined ? undefined : { column: trim(sql, { start: span.start, end: equals }), expression: trim(sql, { start: equals + 1, end: span.end }) }
  })
  if (assignments.some((entry) => entry === undefined)) return undefined
  const layout: UpdateLayout = { set: setSpan, assignments: assignments as UpdateLayout['assignments'], hasTail: tail !== undefined }
  if (where) layout.where = trim(sql, { start: where.end, end: tail?.start ?? trimmedEnd(sql) })
  return layout
}

interface Word {
  upper: string
  start: number
  end: number
}

/** The bare words at depth 0; quoted names, strings, comments and parenthesised text skipped. */
function topLevelWords(sql: string): Word[] {
  const words: Word[] = []
  scan(sql, { start: 0, end: sql.length }, (i, depth) => {
    if (depth !== 0 || !isWordStart(sql, i)) return i + 1
    let end = i
    while (end < sql.length && /[\w$]/.test(sql[end]!)) end++
    words.push({ upper: sql.slice(i, end).toUpperCase(), start: i, end })
    return end
  })
  return words
}

function splitTopLevel(sql: string, span: Span, separator: string): Span[] {
  const spans: Span[] = []
  let start = span.start
  scan(sql, span, (i, depth) => {
    if (depth === 0 && sql[i] === separator) {
      spans.push({ start, end: i })
      start = i + 1
    }
    return i + 1
  })
  spans.push({ start, end: span.end })
  return spans
}

function firstTopLevel(sql: string, span: Span, char: string): number | undefined {
  let found: number | undefined
  scan(sql, span, (i, depth) => {
    if (found === undefined && depth === 0 && sql[i] === char) found = i
    return i + 1
  })
  return found
}

/**
 * Walks `span`, skipping quoted text and comments, and calls `visit` with each other
 * character's offset and the parenthesis depth there; `visit` returns where to go next.
 */
function scan(sql: string, span: Span, visit: (i: number, depth: number) => number): void {
  let depth = 0
  let i = span.start
  while (i < span.end) {
    const ch = sql[i]!
    if (ch === "'" || ch === '"' || ch === '`') i = quotedEnd(sql, i)
    else if (ch === '-' && sql[i + 1] === '-') i = lineEnd(sql, i)
    else if (ch === '#') i = lineEnd(sql, i)
    else if (ch === '/' && sql[i + 1] === '*') i = blockEnd(sql, i)
    else if (ch === '(') (depth++, i++)
    else if (ch === ')') (depth--, i++)
    else i = visit(i, depth)
  }
}

function isWordStart(sql: string, i: number): boolean {
  return /[A-Za-z_]/.test(sql[i]!) && (i === 0 || !/[\w$.@]/.test(sql[i - 1]!))
}

function lineEnd(sql: string, i: number): number {
  const end = sql.indexOf('\n', i)
  return end === -1 ? sql.length : end
}

function blockEnd(sql: string, i: number): number {
  const end = sql.indexOf('*/', i + 2)
  return end === -1 ? sql.length : end + 2
}

function trimmedEnd(sql: string): number {
  return sql.replace(/[\s;]+$/, '').length
}

function trim(sql: string, span: Span): Span {
  let { start, end } = span
  while (start < end && /\s/.test(sql[start]!)) start++
  while (end > start && /\s/.test(sql[end - 1]!)) end--
  return { start, end }
}

export function textOf(sql: string, span: Span): string {
  return sql.slice(span.start, span.end)
}
