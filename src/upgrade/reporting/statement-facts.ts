import type { CaptureStep, StatementApplied } from '../../db/migrations/migration-executor.js'
import type { UpgradeFactReport } from '../../protocol/events.js'
import type { UpgradeContext } from '../run/upgrade-context.js'

/** Reports an applied statement (and the soft drop it made) as facts; a statement done by an earlier run is not reported again. */
export function reportStatement(context: UpgradeContext, applied: StatementApplied): void {
  if (applied.skipped) return
  const chunks = applied.backfill?.chunks
  const rowsTouched = applied.rowsTouched ?? chunks?.rows
  context.report({
    type: 'statement-applied',
    part: applied.part,
    script: applied.script,
    line: applied.line,
    durationSeconds: applied.durationMs / 1000,
    outcome: applied.rebuiltOnline ? 'swapped-in' : applied.replacedByCapture ? 'replaced-by-capture' : applied.alreadyInPlace ? 'already-in-place' : 'ran',
    ...(applied.algorithm ? { algorithm: applied.algorithm } : {}),
    ...(rowsTouched === undefined ? {} : { rowsTouched }),
    ...(applied.backfill ? { capture: applied.backfill.capture } : {}),
    ...(chunks ? { chunks: chunks.chunks, longestChunkSeconds: chunks.longestChunkMs / 1000 } : {}),
    ...(chunks?.resumedAfterChunks ? { resumedAfterChunks: chunks.resumedAfterChunks } : {}),
  })
  const drop = applied.softDrop
  if (drop) context.report({ type: 'soft-drop-made', script: drop.script, table: drop.table, softName: drop.softName, ...(drop.column ? { column: drop.column } : {}) })
}

/** The capture's work around a part, and the tables the expand rebuilt beside themselves. */
export function reportCapture(context: UpgradeContext, step: CaptureStep): void {
  if (step.replayed || step.removed.length) context.report({ type: 'capture-finished', part: step.part, replayedRows: step.replayed, removed: step.removed.length })
  for (const { table, copy } of step.rebuilt ?? []) {
    const fact: UpgradeFactReport = { type: 'table-rebuilt', table, rows: copy.rows, chunks: copy.chunks, longestChunkSeconds: copy.longestChunkMs / 1000 }
    context.report(fact)
  }
}
