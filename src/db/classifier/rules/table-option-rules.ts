import { isNode, text, type TableName } from '../ast.js'
import { classified, tableRef, type ClauseRule, type RuleContext, type RuleResult } from './rule.js'

/** Table options that change how rows are stored or numbered, never which values are valid. */
const STORAGE_OPTIONS = new Set(['engine', 'auto_increment', 'comment', 'row_format', 'key_block_size', 'stats_persistent', 'stats_auto_recalc', 'stats_sample_pages', 'checksum', 'pack_keys', 'page_checksum', 'transactional', 'avg_row_length', 'max_rows', 'min_rows', 'delay_key_write', 'compression', 'encryption'])
const CHARSET_OPTIONS = new Set(['default charset', 'charset', 'character set', 'default character set', 'collate', 'default collate'])

/**
 * Which character sets hold every character of which others: converting a column to one of
 * these keeps each value the old version stored (the server re-encodes it).
 */
const HOLDS: Record<string, string[]> = {
  utf8mb4: ['ascii', 'latin1', 'utf8', 'utf8mb3', 'utf8mb4', 'ucs2', 'utf16', 'utf16le', 'utf32'],
  utf8mb3: ['ascii', 'latin1', 'utf8', 'utf8mb3'],
  utf8: ['ascii', 'latin1', 'utf8', 'utf8mb3'],
  latin1: ['ascii', 'latin1'],
}

/** ENGINE=, AUTO_INCREMENT=, ROW_FORMAT=, COMMENT=, DEFAULT CHARSET= and CONVERT TO CHARACTER SET. */
export const tableOptions: ClauseRule = {
  matches: (clause) => clause.type === 'alter' && typeof clause.resource === 'string' && (STORAGE_OPTIONS.has(clause.resource) || CHARSET_OPTIONS.has(clause.resource)),
  classify(clause, table, context) {
    const resource = String(clause.resource)
    if (CHARSET_OPTIONS.has(resource) && context.modifiers.convertTo) return convert(table, context)
    const value = isNode(clause[resource]) ? text((clause[resource] as Record<string, unknown>).value) : String(clause[resource] ?? '')
    const what = CHARSET_OPTIONS.has(resource) ? `sets the default character set of ${table.name} for columns added later` : `sets ${resource.toUpperCase()}=${value ?? ''} on ${table.name}`
    return { clause: classified('table-options', what, { table }, [tableRef(table)], []), undo: { none: 'the old version works with the table either way' } }
  },
}

/** Every text column is re-encoded: compatible when the new set holds every character of each column's current one. */
function convert(table: TableName, context: RuleContext): RuleResult {
  const { charset, collation } = context.modifiers.convertTo!
  const columns = [...(context.state.table(table.name)?.columns.values() ?? [])]
  const current = [...new Set(columns.flatMap((column) => (column.type.charset ? [column.type.charset] : [])))]
  const known = context.state.table(table.name)?.complete === true && current.length > 0
  const held = known && current.every((from) => (HOLDS[charset] ?? [charset]).includes(from))
  const fact = `converts every text column of ${table.name} ${known ? `from ${current.join(', ')} ` : ''}to ${charset}${collation ? ` (${collation})` : ''}`
  const why = known ? fact : `${fact}; the columns' current character sets are not known`
  const result: RuleResult = held
    ? { clause: classified('convert-charset', fact, { table }, [tableRef(table)], [tableRef(table)]), undo: { none: 'the old version works with the wider character set, so it stays' } }
    : { clause: classified('convert-charset-narrow', why, { table }, [tableRef(table)], [tableRef(table)]) }
  result.effect = (state) => {
    for (const column of state.table(table.name)?.columns.values() ?? []) {
      if (column.type.charset) column.type = { ...column.type, charset, ...(collation ? { collation } : {}) }
    }
  }
  return result
}
