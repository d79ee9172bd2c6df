import { textOf, updateLayout } from './statement-layout.js'

/**
 * An UPDATE as comparable text, whitespace aside: its target, SET clause and WHERE. Only an
 * UPDATE equal to a backfill stands in for it: one with another WHERE visits other rows.
 */
export function updateSignature(sql: string): string | undefined {
  const match = /^\s*UPDATE\s+/i.exec(sql)
  const layout = match ? updateLayout(sql) : undefined
  if (!match || !layout || layout.hasTail) return undefined
  const target = sql.slice(match[0].length, layout.set.start).replace(/\s+SET\s*$/i, '')
  const where = layout.where ? ` WHERE ${normalize(textOf(sql, layout.where))}` : ''
  return `${normalize(target)} SET ${normalize(textOf(sql, layout.set))}${where}`
}

function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\s*([(),=])\s*/g, '$1').trim()
}
