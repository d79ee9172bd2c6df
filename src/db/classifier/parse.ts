import sqlParser from 'node-sql-parser/build/mysql.js'
import type { SqlStatement } from '../migrations/scripts/sql-statements.js'
import { UnparseableStatementError } from './errors.js'
import { stripMariadbModifiers, type Modifiers } from './mariadb-modifiers.js'
import { isNode, nodes, type Node } from './ast.js'
import { columnTypeOf, type ColumnType } from './column-type.js'

/**
 * node-sql-parser's MySQL grammar: on the DDL that migrations use it reads more than its
 * MariaDB grammar does (FOREIGN KEY, MODIFY ... ENUM); MariaDB-only modifiers are handled
 * by stripMariadbModifiers.
 */
const OPTIONS = { database: 'MySQL' }
const parser = new sqlParser.Parser()

export interface ParsedStatement {
  ast: Node
  modifiers: Modifiers
  /** The parser's `action::database::table` list, aliases resolved. */
  tables: string[]
  /** The parser's `action::table::column` list; table `null` when unqualified, column `(.*)` for `*`. */
  columns: string[]
}

export function parseStatement(statement: SqlStatement, file?: string): ParsedStatement {
  const { sql, modifiers } = stripMariadbModifiers(statement.sql)
  let result: { ast: unknown; tableList: string[]; columnList: string[] }
  try {
    result = parser.parse(sql, OPTIONS)
  } catch (error) {
    throw new UnparseableStatementError(file, statement.line, describeSyntaxError(error, statement.line))
  }
  const asts = Array.isArray(result.ast) ? result.ast : [result.ast]
  if (asts.length !== 1 || !isNode(asts[0])) {
    throw new UnparseableStatementError(file, statement.line, `expected one statement, the parser read ${asts.length}`)
  }
  return { ast: asts[0], modifiers, tables: result.tableList, columns: result.columnList }
}

/** SQL the parser writes back for an AST, e.g. one clause of an ALTER; undefined if it cannot. */
export function sqlOf(ast: Node): string | undefined {
  try {
    return parser.sqlify(ast as never, OPTIONS)
  } catch {
    return undefined
  }
}

// Every script is classified against the live schema, whose column types repeat: each
// distinct type text is parsed once per process.
const parsedTypes = new Map<string, ColumnType | undefined>()

/**
 * A column type written as SQL (`varchar(50)`, `enum('a','b')`), or undefined if unreadable.
 * A copy each time: callers set charset and collation on what they get.
 */
export function parseColumnType(type: string): ColumnType | undefined {
  if (!parsedTypes.has(type)) parsedTypes.set(type, parseColumnTypeOnce(type))
  const parsed = parsedTypes.get(type)
  return parsed === undefined ? undefined : { ...parsed }
}

function parseColumnTypeOnce(type: string): ColumnType | undefined {
  try {
    const ast = parser.astify(`CREATE TABLE t (c ${type})`, OPTIONS)
    const create = Array.isArray(ast) ? ast[0] : ast
    const column = isNode(create) ? nodes(create.create_definitions)[0] : undefined
    return column ? columnTypeOf(column) : undefined
  } catch {
    return undefined
  }
}

/** The parser's syntax errors list every token it expected; keep what the author needs. */
function describeSyntaxError(error: unknown, firstLine: number): string {
  if (!isNode(error)) return String(error)
  const location = isNode(error.location) && isNode(error.location.start) ? error.location.start : undefined
  const found = typeof error.found === 'string' ? `unexpected "${error.found}"` : 'unexpected end of statement'
  if (!location || typeof location.line !== 'number') return found
  return `${found} at line ${firstLine + location.line - 1}, column ${String(location.column)}`
}
