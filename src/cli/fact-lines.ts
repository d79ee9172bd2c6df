/**
 * The line a person reads for each fact a run reports: the same words during the run
 * (progress), in `handover status` and after a resume, because all print from the fact.
 */
import { redoLogAdvice } from '../db/capture/redo-log-check.js'
import type { UpgradeFactReport } from '../protocol/events.js'

type FactOf<T extends UpgradeFactReport['type']> = Extract<UpgradeFactReport, { type: T }>

const CAPTURE_WORDS = { 'row-trigger': 'writes captured by triggers', 'changed-keys': 'written keys recorded for replay', uncaptured: 'not captured: run again in the contract' } as const

export function factLine(fact: UpgradeFactReport): string {
  switch (fact.type) {
    case 'plan-made':
      return `plan: scripts ${fact.scripts.join(', ') || 'none'}`
    case 'rehearsal-passed':
      return `rehearsal on a copy of the schema: ${fact.statements} statements ok${fact.copying.length ? `; these copy their table: ${fact.copying.join(', ')}` : ''}`
    case 'rebuild-planned':
      return `${fact.script}: the contract's rebuild of ${fact.table} is built beside it during the expand and swapped in by the contract`
    case 'hold-estimated':
      return `the contract holds requests for about ${fact.seconds.toFixed(1)} s (${fact.statements.join(', ')})`
    case 'backup-written':
      return `backup: ${fact.file} (${fact.bytes} bytes)`
    case 'statement-applied':
      return statementLine(fact)
    case 'soft-drop-made':
      return `${fact.script}: ${fact.column ? `${fact.table}.${fact.column}` : fact.table} kept as ${fact.softName} until finalize`
    case 'capture-finished':
      return `${fact.part}: capture finished (${fact.replayedRows} rows replayed, ${fact.removed} triggers and change tables removed)`
    case 'table-rebuilt':
      return `expand: ${fact.table} rebuilt beside itself for the contract, ${fact.rows} rows copied in ${fact.chunks} chunks (longest ${ms(fact.longestChunkSeconds)})`
    case 'redo-log-small':
      return `warning: ${redoLogAdvice(fact)}`
    case 'container-replaced':
      return `slot ${fact.slot} recreated on ${fact.image} (version ${fact.version})`
    case 'point-of-no-return-crossed':
      return `point of no return crossed: ${fact.slot} serves the new version`
    case 'requests-released':
      return `released ${fact.released} held requests to ${fact.slot} (longest held ${fact.longestHoldSeconds.toFixed(3)}s)`
    case 'soft-drops-purged':
      return `dropped for real: ${fact.names.join(', ')}`
    case 'soft-drops-kept':
      return `soft-dropped objects are kept ${fact.retentionHours}h; \`handover migrate purge\` drops them after that`
    default: {
      // A new fact must be given its line here before it compiles.
      const unhandled: never = fact
      return unhandled
    }
  }
}

function statementLine(fact: FactOf<'statement-applied'>): string {
  const where = `${fact.part} ${fact.script}:${fact.line}`
  if (fact.outcome === 'replaced-by-capture') return `${where} catch-up not needed: the capture kept the backfill in step`
  if (fact.outcome === 'swapped-in') return `${where} ${ms(fact.durationSeconds)}: the table rebuilt during the expand swapped in`
  const algorithm = fact.algorithm ? ` ${fact.algorithm}` : ''
  const rows = fact.rowsTouched === undefined || fact.capture ? '' : `, ${fact.rowsTouched} rows`
  const already = fact.outcome === 'already-in-place' ? ' (already in place: an earlier run applied it)' : ''
  return `${where} ${ms(fact.durationSeconds)}${algorithm}${rows}${backfill(fact)}${already}`
}

function backfill(fact: FactOf<'statement-applied'>): string {
  if (fact.capture === undefined) return ''
  const resumed = fact.resumedAfterChunks ? `, resumed after ${fact.resumedAfterChunks} chunks of an earlier run` : ''
  const chunks = fact.chunks === undefined ? '' : `, ${fact.rowsTouched ?? 0} rows in ${fact.chunks} chunks (longest ${ms(fact.longestChunkSeconds ?? 0)})${resumed}`
  return ` backfill (${CAPTURE_WORDS[fact.capture]}${chunks})`
}

function ms(seconds: number): string {
  return `${(seconds * 1000).toFixed(0)}ms`
}
