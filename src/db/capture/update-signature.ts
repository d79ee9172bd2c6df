import { textOf, updateLayout } from './statement-layout.js'

/**
 * What an UPDATE writes, as comparable text: its target and SET clause, whitespace aside, without its WHERE. Two UPDATEs with the same signature compute
 * the same values; the WHERE only says which rows they still have to visit.
 */
export function updateSignature(sql: string): string | undefined {
  const match = /^\s*UPDATE\s+/i.exec(sql)
  const layout = match ? updateLayout(sql) : undefined
  if (!match || !layout || layout.hasTail) return undefined
  const target = sql.slice(match[0].length, layout.set.start).replace(/\s+SET\s*$/i, '')
  return `${normalize(target)} SET ${normalize(textOf(sql, layout.set))}`
}

function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\s*([(),=])\s*/g, '$1').trim()
}
