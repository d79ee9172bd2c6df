/** One SQL statement of a script, with the 1-based line it starts on for error messages. */
export interface SqlStatement {
  sql: string
  line: number
}

/** A line comment `-- handover:<word>` that switches the part of the script that follows. */
export interface SqlMarker {
  name: string
  line: number
}

export type SqlToken = { kind: 'statement'; statement: SqlStatement } | { kind: 'marker'; marker: SqlMarker }

const MARKER_PATTERN = /^--\s*handover:([a-z-]+)\s*$/

/**
 * Splits a script at semicolons that are outside quotes and comments, and reports
 * `-- handover:` markers between statements. It does not interpret SQL; it only needs to
 * know where one statement ends, which quotes and comments decide.
 */
export function tokenizeScript(text: string): SqlToken[] {
  const tokens: SqlToken[] = []
  let current = ''
  // Whether `current` is only whitespace so far; kept as a flag, since trimming the growing
  // statement at every character would make long statements quadratic.
  let blank = true
  let startLine = 1
  let line = 1
  let i = 0
  const flush = (): void => {
    const sql = current.trim()
    if (sql) tokens.push({ kind: 'statement', statement: { sql, line: startLine } })
    current = ''
    blank = true
  }
  while (i < text.length) {
    const ch = text[i]!
    if (blank) startLine = line
    if (ch === '-' && text[i + 1] === '-' && /\s|$/.test(text[i + 2] ?? '')) {
      const end = indexOrEnd(text, '\n', i)
      const comment = text.slice(i, end).trim()
      const marker = MARKER_PATTERN.exec(comment)
      if (marker && blank) tokens.push({ kind: 'marker', marker: { name: marker[1]!, line } })
      else if (!blank) current += ' '
      i = end
      continue
    }
    if (ch === '#') {
      i = indexOrEnd(text, '\n', i)
      continue
    }
    if (ch === '/' && text[i + 1] === '*') {
      const end = indexOrEnd(text, '*/', i + 2) + 2
      line += countNewlines(text.slice(i, end))
      current += ' '
      i = end
      continue
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = quotedEnd(text, i)
      const quoted = text.slice(i, end)
      line += countNewlines(quoted)
      current += quoted
      blank = false
      i = end
      continue
    }
    if (ch === ';') {
      flush()
      i++
      continue
    }
    if (ch === '\n') line++
    current += ch
    blank &&= /\s/.test(ch)
    i++
  }
  flush()
  return tokens
}

function indexOrEnd(text: string, needle: string, from: number): number {
  const index = text.indexOf(needle, from)
  return index === -1 ? text.length : index
}

/** End (exclusive) of a quoted string starting at `start`; doubled quotes and backslashes escape. */
export function quotedEnd(text: string, start: number): number {
  const quote = text[start]
  let i = start + 1
  while (i < text.length) {
    if (text[i] === '\\' && quote !== '`') {
      i += 2
      continue
    }
    if (text[i] === quote) {
      if (text[i + 1] === quote) {
        i += 2
        continue
      }
      return i + 1
    }
    i++
  }
  return text.length
}

function countNewlines(text: string): number {
  let count = 0
  for (const ch of text) if (ch === '\n') count++
  return count
}

/** Backtick-quotes an identifier, doubling any backtick in it. */
export function quoteName(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`'
}
