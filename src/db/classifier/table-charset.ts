import { isNode, nodes, text, type Node } from './ast.js'
import type { ColumnType } from './column-type.js'

const CHARSET_KEYWORDS = new Set(['default charset', 'charset', 'character set', 'default character set'])
const COLLATE_KEYWORDS = new Set(['collate', 'default collate'])
const TEXT_TYPES = new Set(['CHAR', 'VARCHAR', 'TINYTEXT', 'TEXT', 'MEDIUMTEXT', 'LONGTEXT', 'ENUM', 'SET'])

export interface TableCharset {
  charset?: string
  collation?: string
}

/** DEFAULT CHARSET= and COLLATE= of a CREATE TABLE: the server gives them to every text column that names none. */
export function tableCharset(ast: Node): TableCharset {
  const found: TableCharset = {}
  for (const option of nodes(ast.table_options)) {
    const keyword = String(option.keyword ?? '').toLowerCase()
    const value = (isNode(option.value) ? text(option.value.value) : text(option.value))?.toLowerCase()
    if (!value) continue
    if (CHARSET_KEYWORDS.has(keyword)) found.charset = value
    if (COLLATE_KEYWORDS.has(keyword)) found.collation = value
  }
  return found
}

/**
 * A text column's type with the table's character set and collation when it names none, as
 * the server stores it: a dump writes a column's character set only where it differs from the
 * table's, and a later MODIFY naming the same one must not read as a change.
 */
export function withTableCharset(type: ColumnType, table: TableCharset): ColumnType {
  if (!TEXT_TYPES.has(type.name) || type.charset || !table.charset) return type
  return { ...type, charset: table.charset, ...(table.collation && !type.collation ? { collation: table.collation } : {}) }
}
