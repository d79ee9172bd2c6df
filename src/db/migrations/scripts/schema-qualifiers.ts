import { InvalidInputError } from '../../../errors.js'
import { isNode, type Node } from '../../classifier/ast.js'
import { parseStatement } from '../../classifier/parse.js'
import { quotedEnd, type SqlStatement } from './sql-statements.js'

const BARE = /[A-Za-z_$][\w$]*/y
const DOT = /\s*\.\s*/y

/** Schemas every user may read and no statement can change. */
const READ_ONLY_SCHEMAS = new Set(['information_schema'])

/**
 * `<name>.table` where `<name>` is database.schema or one of the vendor's names for it
 * (migrations.schemaAliases) loses its qualifier: every statement runs in the schema the
 * executor selects, so the real run changes database.schema and the rehearsal its copy,
 * never the live schema by a name the copy does not have.
 */
export function withoutSchemaQualifiers<T extends SqlStatement>(statement: T, names: readonly string[]): T {
  if (names.length === 0) return statement
  const wanted = new Set(names.map((name) => name.toLowerCase()))
  const sql = statement.sql
  let out = ''
  let i = 0
  while (i < sql.length) {
    const ch = sql[i]!
    if (ch === "'" || ch === '"') {
      const end = quotedEnd(sql, i)
      out += sql.slice(i, end)
      i = end
      continue
    }
    const word = identifierAt(sql, i)
    if (!word) {
      out += ch
      i++
      continue
    }
    DOT.lastIndex = word.end
    const dot = DOT.exec(sql)
    const qualified = dot !== null && !/\.\s*$/.test(out) && identifierAt(sql, word.end + dot[0].length) !== undefined
    if (qualified && wanted.has(word.name.toLowerCase())) i = word.end + dot[0].length
    else {
      out += sql.slice(i, word.end)
      i = word.end
    }
  }
  return out === sql ? statement : { ...statement, sql: out }
}

/**
 * A statement naming another schema would reach past database.schema: in the real run it
 * would change what handover neither backs up nor rolls back, in the rehearsal it would fail
 * on its user's grants. Refused with its line before anything runs. A statement the parser
 * cannot read is left to the rehearsal's user, which is granted its copy alone.
 */
export function refuseOtherSchemas(file: string, statement: SqlStatement): void {
  let ast: Node
  try {
    ast = parseStatement(statement, file).ast
  } catch {
    return
  }
  const other = qualifiers(ast).find((schema) => !READ_ONLY_SCHEMAS.has(schema.toLowerCase()))
  if (other === undefined) return
  throw new InvalidInputError(
    `${file}:${statement.line}`,
    `names the schema ${other}: every statement runs in database.schema (and is rehearsed in a copy of it); ` +
      `remove the qualifier, or list ${other} in migrations.schemaAliases if it is the vendor's name for database.schema`,
  )
}

/** Every `db` of a `{ db, table }` node in the statement's tree. */
function qualifiers(ast: unknown, found: string[] = [], depth = 0): string[] {
  if (depth > 200) return found
  if (Array.isArray(ast)) {
    for (const item of ast) qualifiers(item, found, depth + 1)
    return found
  }
  if (!isNode(ast)) return found
  if (typeof ast.db === 'string' && ast.db !== '' && typeof ast.table === 'string') found.push(ast.db)
  for (const value of Object.values(ast)) if (typeof value === 'object' && value !== null) qualifiers(value, found, depth + 1)
  return found
}

/** A bare or backticked identifier starting at `i`, with its unquoted name. */
function identifierAt(sql: string, i: number): { name: string; end: number } | undefined {
  if (sql[i] === '`') {
    const end = quotedEnd(sql, i)
    return { name: sql.slice(i + 1, end - 1).replace(/``/g, '`'), end }
  }
  if (i > 0 && /[\w$]/.test(sql[i - 1]!)) return undefined
  BARE.lastIndex = i
  const match = BARE.exec(sql)
  return match ? { name: match[0], end: i + match[0].length } : undefined
}
