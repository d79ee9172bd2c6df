import { createHash } from 'node:crypto'
import type { MigrationScript } from '../migrations/scripts/migration-script.js'
import type { PartStatement } from '../migrations/scripts/script-parts.js'
import { backfillShape, type BackfillShape } from './backfill-shape.js'

/**
 * How the old version's writes reach what a backfill computed, from the moment the backfill
 * starts until the contract:
 * - `row-trigger`: triggers apply the backfill itself to every row the old version inserts
 *   or updates, so nothing is left to do in the contract;
 * - `changed-keys`: triggers record the keys of written rows in a change table, and the
 *   backfill is replayed for exactly those rows (in catch-up rounds during the expand, the
 *   rest in the contract).
 * A table with any backfill that is not per-row gets `changed-keys` for all of its
 * backfills, so their replays run in the script's order. A backfill that cannot be limited
 * to given keys (a join, ORDER BY, LIMIT) leaves its table `uncaptured`: the contract then
 * runs the catch-up statement as written, over the whole table.
 */
export type CaptureMode = 'row-trigger' | 'changed-keys' | 'uncaptured'

export interface CaptureSpec {
  script: string
  /** The statement's index in the script's expand part. */
  index: number
  /** Short, stable: names the triggers. */
  id: string
  table: string
  shape: BackfillShape
  mode: CaptureMode
  /**
   * The columns no earlier backfill of the chain writes: before replaying the backfill on a
   * row they go back to their default, so a guard such as `WHERE new_col IS NULL` selects
   * the row again, exactly as it did when the backfill first ran.
   */
  resets: string[]
}

/** Every backfill UPDATE of the chain's expand parts, in the order they run. */
export function planCaptures(scripts: readonly MigrationScript[]): CaptureSpec[] {
  const found: Omit<CaptureSpec, 'mode'>[] = []
  const written = new Map<string, Set<string>>()
  for (const script of scripts) {
    script.parts.expand.forEach((statement, index) => {
      const shape = isBackfill(statement) ? backfillShape(statement.sql) : undefined
      if (!shape) return
      const table = shape.table.toLowerCase()
      const before = written.get(table) ?? new Set<string>()
      const columns = shape.perRow ? shape.assignments.map((assignment) => assignment.column) : shape.columns
      const resets = columns.filter((column) => !before.has(column.toLowerCase()))
      for (const column of columns) before.add(column.toLowerCase())
      written.set(table, before)
      found.push({ script: script.name, index, id: captureId(script.name, index), table: shape.table, shape, resets })
    })
  }
  const tablesWhere = (test: (spec: Omit<CaptureSpec, 'mode'>) => boolean): Set<string> => new Set(found.filter(test).map((spec) => spec.table.toLowerCase()))
  const keyed = tablesWhere((spec) => !spec.shape.perRow)
  const unkeyable = tablesWhere((spec) => !spec.shape.chunking)
  const modeOf = (table: string): CaptureMode => (!keyed.has(table) ? 'row-trigger' : unkeyable.has(table) ? 'uncaptured' : 'changed-keys')
  return found.map((spec) => ({ ...spec, mode: modeOf(spec.table.toLowerCase()) }))
}

function isBackfill(statement: PartStatement): boolean {
  return statement.classified?.kind === 'backfill'
}

function captureId(script: string, index: number): string {
  return createHash('sha256').update(`${script}\u0000${index}`).digest('hex').slice(0, 12)
}

/** The change table of a table: one per table, whichever backfill created it. */
export function changeTableName(table: string): string {
  return `_handover_chg_${createHash('sha256').update(table.toLowerCase()).digest('hex').slice(0, 12)}`
}

export const CAPTURE_TRIGGER_PREFIX = '_handover_bf_'
export const CHANGE_TABLE_PREFIX = '_handover_chg_'
