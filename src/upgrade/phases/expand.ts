import type { StatementApplied } from '../../db/migrations/migration-executor.js'
import type { Phase } from '../upgrade-context.js'

/** The compatible schema changes, applied while v1 still serves on slot A. */
export const expand: Phase = {
  name: 'expand',
  async forward(context, signal) {
    await context.migrations.applyPart(
      context.scripts,
      'expand',
      (applied) => {
        if (!applied.skipped) context.note(`expand ${applied.script}:${applied.line} ${applied.durationMs.toFixed(0)}ms${applied.algorithm ? ` ${applied.algorithm}` : ''}${backfillNote(applied)}`)
      },
      signal,
      (step) => {
        if (step.replayed) context.note(`expand: replayed the backfills for ${step.replayed} rows the old version wrote meanwhile`)
        for (const { table, copy } of step.rebuilt ?? []) context.note(`expand: ${table} rebuilt beside itself for the contract, ${copy.rows} rows copied in ${copy.chunks} chunks (longest ${copy.longestChunkMs.toFixed(0)}ms)`)
      },
    )
  },
  async undo(context, signal) {
    await context.migrations.undoPart(context.scripts, 'expand', 'expand-undo', undefined, signal)
  },
}

function backfillNote(applied: StatementApplied): string {
  const run = applied.backfill
  if (!run) return ''
  const capture = { 'row-trigger': 'writes captured by triggers', 'changed-keys': 'written keys recorded for replay', uncaptured: 'not captured: run again in the contract' }[run.capture]
  const resumed = run.chunks?.resumedAfterChunks ? `, resumed after ${run.chunks.resumedAfterChunks} chunks of an earlier run` : ''
  const chunks = run.chunks ? `, ${run.chunks.rows} rows in ${run.chunks.chunks} chunks (longest ${run.chunks.longestChunkMs.toFixed(0)}ms)${resumed}` : ''
  return ` backfill (${capture}${chunks})`
}
