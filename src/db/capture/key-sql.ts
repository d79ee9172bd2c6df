import { quoteName } from '../migrations/scripts/sql-statements.js'
import type { TableKey } from './table-key.js'

/** A piece of SQL with its `?` values. */
export interface BoundSql {
  sql: string
  values: unknown[]
}

export function keyList(key: TableKey): string {
  return key.columns.map((column) => quoteName(column.name)).join(', ')
}

/** `k IN (?, ?)` or `(k1, k2) IN ((?, ?), (?, ?))` for the given key values. */
export function keyIn(key: TableKey, keys: unknown[][]): BoundSql {
  if (key.columns.length === 1) return { sql: `${keyList(key)} IN (${keys.map(() => '?').join(', ')})`, values: keys.map((values) => values[0]) }
  const tuple = `(${key.columns.map(() => '?').join(', ')})`
  return { sql: `(${keyList(key)}) IN (${keys.map(() => tuple).join(', ')})`, values: keys.flat() }
}

/**
 * Rows after `from` (exclusive) up to `to` (inclusive) in key order, either bound open.
 * Written out column by column (`a > ? OR (a = ? AND b > ?)`), which every MySQL and
 * MariaDB version turns into an index range.
 */
export function keyRange(key: TableKey, from: unknown[] | undefined, to: unknown[] | undefined): BoundSql {
  const parts: BoundSql[] = []
  if (from) parts.push(compare(key, from, '>'))
  if (to) parts.push(compare(key, to, '<='))
  if (parts.length === 0) return { sql: 'TRUE', values: [] }
  return { sql: parts.map((part) => `(${part.sql})`).join(' AND '), values: parts.flatMap((part) => part.values) }
}

function compare(key: TableKey, values: unknown[], operator: '>' | '<='): BoundSql {
  const strict = operator === '>' ? '>' : '<'
  const alternatives: BoundSql[] = []
  key.columns.forEach((column, i) => {
    const equal = key.columns.slice(0, i).map((before) => `${quoteName(before.name)} = ?`)
    const last = i === key.columns.length - 1 ? operator : strict
    alternatives.push({ sql: [...equal, `${quoteName(column.name)} ${last} ?`].join(' AND '), values: [...values.slice(0, i), values[i]] })
  })
  return { sql: alternatives.map((alternative) => `(${alternative.sql})`).join(' OR '), values: alternatives.flatMap((alternative) => alternative.values) }
}
