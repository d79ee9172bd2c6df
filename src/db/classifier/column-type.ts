import { identifier, isNode, nodes, text, type Node } from './ast.js'

/** A MySQL/MariaDB column type with the facts that decide widening and narrowing. */
export interface ColumnType {
  /** Upper case, synonyms folded: INTEGER is INT, NUMERIC is DECIMAL, BOOLEAN is TINYINT. */
  name: string
  /** CHAR/VARCHAR/BINARY/BIT length, DECIMAL precision, fractional seconds, FLOAT precision. */
  length?: number
  scale?: number
  unsigned: boolean
  /** ENUM and SET values, as written (quotes doubled inside). */
  values?: string[]
  charset?: string
  collation?: string
}

const SYNONYMS: Record<string, string> = { INTEGER: 'INT', NUMERIC: 'DECIMAL', BOOLEAN: 'TINYINT', BOOL: 'TINYINT' }

/** Reads the type of a column definition node (`{ definition, character_set, collate }`). */
export function columnTypeOf(columnDefinition: Node): ColumnType | undefined {
  const definition = columnDefinition.definition
  if (!isNode(definition) || typeof definition.dataType !== 'string') return undefined
  const raw = definition.dataType.toUpperCase()
  const type: ColumnType = { name: SYNONYMS[raw] ?? raw, unsigned: suffixes(definition).includes('UNSIGNED') }
  if (typeof definition.length === 'number') type.length = definition.length
  if (typeof definition.scale === 'number') type.scale = definition.scale
  if (raw === 'BOOLEAN' || raw === 'BOOL') type.length = 1
  if (isNode(definition.expr)) type.values = nodes(definition.expr.value).map((value) => text(value.value) ?? '')
  const charset = isNode(columnDefinition.character_set) ? identifier(columnDefinition.character_set.value) : undefined
  const collation = isNode(columnDefinition.collate) && isNode(columnDefinition.collate.collate) ? text(columnDefinition.collate.collate.name) : undefined
  if (charset) type.charset = charset.toLowerCase()
  if (collation) type.collation = collation.toLowerCase()
  return type
}

function suffixes(definition: Node): string[] {
  return Array.isArray(definition.suffix) ? definition.suffix.map((s) => String(s).toUpperCase()) : []
}

/** The type as SQL, for reasons and messages: `VARCHAR(50)`, `INT UNSIGNED`, `ENUM('a','b')`. */
export function formatType(type: ColumnType): string {
  let sql = type.name
  if (type.values) sql += `(${type.values.map((value) => `'${value}'`).join(',')})`
  else if (type.length !== undefined) sql += type.scale !== undefined ? `(${type.length},${type.scale})` : `(${type.length})`
  if (type.unsigned) sql += ' UNSIGNED'
  return sql
}
