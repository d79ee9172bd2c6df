/**
 * Narrow readers for node-sql-parser's AST. Its published types are loose and partly wrong
 * for the MySQL grammar, so the classifier reads nodes as plain records and checks every
 * field it uses.
 */
export type Node = Record<string, unknown>

export interface TableName {
  name: string
  database?: string
}

export function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function nodes(value: unknown): Node[] {
  return Array.isArray(value) ? value.filter(isNode) : isNode(value) ? [value] : []
}

export function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/**
 * A name that is a plain string, a column_ref, or `{ expr: { value } }` depending on the
 * grammar rule. The parser keeps a doubled backtick of a quoted name as written; unescape it.
 */
export function identifier(value: unknown): string | undefined {
  if (typeof value === 'string') return unescapeName(value)
  if (!isNode(value)) return undefined
  if (value.type === 'column_ref') return identifier(value.column)
  if (isNode(value.expr)) return identifier(value.expr.value ?? value.expr)
  return text(value.value)
}

export function unescapeName(name: string): string {
  return name.replace(/``/g, '`')
}

/** `{ db, table }` as every table reference of the grammar has it. */
export function tableName(value: unknown): TableName | undefined {
  if (typeof value === 'string') return { name: value }
  if (!isNode(value)) return undefined
  const name = identifier(value.table)
  if (!name) return undefined
  const database = identifier(value.db)
  return database ? { name, database } : { name }
}

export function tableNames(value: unknown): TableName[] {
  return nodes(value).flatMap((node) => {
    const name = tableName(node)
    return name ? [name] : []
  })
}

/** The column names of an index or key definition; a prefix `b(10)` reads as a call of `b`. */
export function keyColumns(definition: unknown): string[] {
  return nodes(definition).flatMap((part) => {
    if (part.type === 'function' && isNode(part.name)) {
      const name = nodes(part.name.name)[0]
      const column = name ? identifier(name.value) : undefined
      return column ? [column] : []
    }
    const column = identifier(part)
    return column ? [column] : []
  })
}

/** The parts of an index or key definition with their prefix lengths: `a(191)` is `{ column: 'a', length: 191 }`. */
export function keyParts(definition: unknown): { column: string; length?: number }[] {
  return nodes(definition).flatMap((part) => {
    if (part.type === 'function' && isNode(part.name)) {
      const name = nodes(part.name.name)[0]
      const column = name ? identifier(name.value) : undefined
      const length = nodes(isNode(part.args) ? part.args.value : undefined).map((arg) => arg.value).find((value) => typeof value === 'number')
      return column ? [typeof length === 'number' ? { column, length } : { column }] : []
    }
    const column = identifier(part)
    if (!column) return []
    const length = typeof part.suffix === 'string' ? /^\((\d+)\)$/.exec(part.suffix.trim())?.[1] : undefined
    return [length ? { column, length: Number(length) } : { column }]
  })
}

/** Every column_ref below a node: `table` is the qualifier as written (alias or name), if any. */
export function columnRefs(value: unknown): { table?: string; column: string }[] {
  const found: { table?: string; column: string }[] = []
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit)
    if (!isNode(node)) return
    if (node.type === 'column_ref') {
      const column = identifier(node.column)
      const table = identifier(node.table)
      if (column) found.push(table ? { table, column } : { column })
      return
    }
    for (const child of Object.values(node)) visit(child)
  }
  visit(value)
  return found
}
