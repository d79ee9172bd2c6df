/**
 * The one fallback of the classifier. node-sql-parser (like every JS parser we compared)
 * rejects MariaDB's `IF [NOT] EXISTS` after ADD/DROP/MODIFY/CHANGE COLUMN, INDEX, KEY,
 * FOREIGN KEY or CONSTRAINT, after CREATE INDEX and DROP INDEX, and `WAIT n`/`NOWAIT` after
 * the table name of an ALTER TABLE. Idempotent MariaDB scripts use them a lot, and none of
 * them changes which objects a statement changes or how, so they are cut out before parsing
 * and reported as flags. Quoted text is masked first so nothing inside a string or a
 * backticked name is ever touched.
 */

import { quotedEnd } from '../migrations/scripts/sql-statements.js'

export interface Modifiers {
  /** An `IF NOT EXISTS` was cut from an ADD clause or CREATE INDEX: the addition may be a no-op. */
  ifNotExists: boolean
  /** An `IF EXISTS` was cut from a DROP, MODIFY or CHANGE clause or DROP INDEX. */
  ifExists: boolean
  /** The `WAIT n` or `NOWAIT` cut from an ALTER TABLE. */
  wait?: string
  /** `CONVERT TO CHARACTER SET x [COLLATE y]` of an ALTER TABLE, which the parser cannot read: read here. */
  convertTo?: { charset: string; collation?: string }
}

export interface StrippedStatement {
  sql: string
  modifiers: Modifiers
}

const CLAUSE_OBJECT = String.raw`(?:\s+(?:COLUMN|INDEX|KEY|(?:UNIQUE|FULLTEXT|SPATIAL)(?:\s+(?:INDEX|KEY))?|FOREIGN\s+KEY|CONSTRAINT|PARTITION))?`
const CLAUSE_IF = new RegExp(String.raw`\b(ADD|DROP|MODIFY|CHANGE)${CLAUSE_OBJECT}(\s+IF(\s+NOT)?\s+EXISTS)\b`, 'gi')
const CREATE_INDEX_IF = /^(\s*CREATE\s+(?:(?:UNIQUE|FULLTEXT|SPATIAL)\s+)?INDEX)(\s+IF\s+NOT\s+EXISTS)\b/i
const DROP_INDEX_IF = /^(\s*DROP\s+INDEX)(\s+IF\s+EXISTS)\b/i
const NAME = String.raw`(?:\x60[^\x60]*\x60|[\w$]+)`
const CONVERT_TO = /\bCONVERT\s+TO\s+(?:CHARACTER\s+SET|CHARSET)\s*=?\s*(\w+)(\s+COLLATE\s*=?\s*(\w+))?/i
const ALTER_WAIT = new RegExp(String.raw`^(\s*ALTER\s+(?:IGNORE\s+)?TABLE\s+${NAME}(?:\s*\.\s*${NAME})?)(\s+(WAIT\s+\d+|NOWAIT))\b`, 'i')

export function stripMariadbModifiers(original: string): StrippedStatement {
  let sql = original
  const modifiers: Modifiers = { ifNotExists: false, ifExists: false }
  const cuts: [number, number][] = []
  const masked = maskQuoted(original)
  const alter = /^\s*ALTER\b/i.test(masked)
  if (alter) {
    for (const match of masked.matchAll(CLAUSE_IF)) {
      const cut = match[2]!
      const start = match.index + match[0].length - cut.length
      cuts.push([start, start + cut.length])
      if (match[3]) modifiers.ifNotExists = true
      else modifiers.ifExists = true
    }
    const convert = CONVERT_TO.exec(masked)
    if (convert) {
      modifiers.convertTo = { charset: convert[1]!.toLowerCase(), ...(convert[3] ? { collation: convert[3].toLowerCase() } : {}) }
      // The parser reads a table's default character set; the clause is at least as long.
      const replacement = `DEFAULT CHARSET=${convert[1]!}`
      sql = sql.slice(0, convert.index) + replacement.padEnd(convert[0].length, ' ') + sql.slice(convert.index + convert[0].length)
    }
    const wait = ALTER_WAIT.exec(masked)
    if (wait) {
      cuts.push([wait[1]!.length, wait[1]!.length + wait[2]!.length])
      modifiers.wait = wait[3]!.replace(/\s+/g, ' ').toUpperCase()
    }
  }
  const create = CREATE_INDEX_IF.exec(masked)
  if (create) {
    cuts.push([create[1]!.length, create[1]!.length + create[2]!.length])
    modifiers.ifNotExists = true
  }
  const drop = DROP_INDEX_IF.exec(masked)
  if (drop) {
    cuts.push([drop[1]!.length, drop[1]!.length + drop[2]!.length])
    modifiers.ifExists = true
  }
  return { sql: cutOut(sql, cuts), modifiers }
}

/** Blanks the cut text out, keeping newlines, so the parser's line and column numbers still hold. */
function cutOut(sql: string, cuts: [number, number][]): string {
  let result = sql
  for (const [start, end] of cuts) result = result.slice(0, start) + result.slice(start, end).replace(/[^\n]/g, ' ') + result.slice(end)
  return result
}

/** The same text with every character inside quotes replaced, so patterns see only SQL words. */
export function maskQuoted(sql: string): string {
  let out = ''
  let i = 0
  while (i < sql.length) {
    const ch = sql[i]!
    if (ch !== "'" && ch !== '"' && ch !== '`') {
      out += ch
      i++
      continue
    }
    const end = quotedEnd(sql, i)
    const closed = end - i >= 2 && sql[end - 1] === ch
    out += ch + '_'.repeat(end - i - (closed ? 2 : 1)) + (closed ? ch : '')
    i = end
  }
  return out
}

