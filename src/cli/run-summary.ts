/**
 * A run's facts (from the journal) folded into the few numbers `handover history` shows per
 * run: statements and rows, requests held and the longest hold, soft drops, containers,
 * when the point of no return was crossed.
 */
import type { RecordedFact } from '../db/journal/run-facts.js'
import type { RunFactJson, RunSummaryJson } from './json-output.js'

export function summarizeFacts(facts: readonly RecordedFact[]): RunSummaryJson {
  const summary: RunSummaryJson = {
    statements: 0,
    rowsTouched: 0,
    heldRequestsReleased: 0,
    longestHoldSeconds: null,
    softDropsMade: 0,
    softDropsPurged: 0,
    containersReplaced: 0,
    pointOfNoReturnCrossedAt: null,
    backupBytes: null,
  }
  for (const { fact, at } of facts) {
    switch (fact.type) {
      case 'statement-applied':
        summary.statements++
        summary.rowsTouched += fact.rowsTouched ?? 0
        break
      case 'requests-released':
        summary.heldRequestsReleased += fact.released
        summary.longestHoldSeconds = Math.max(summary.longestHoldSeconds ?? 0, fact.longestHoldSeconds)
        break
      case 'soft-drop-made':
        summary.softDropsMade++
        break
      case 'soft-drops-purged':
        summary.softDropsPurged += fact.names.length
        break
      case 'container-replaced':
        summary.containersReplaced++
        break
      case 'point-of-no-return-crossed':
        summary.pointOfNoReturnCrossedAt = at
        break
      case 'backup-written':
        summary.backupBytes = fact.bytes
        break
      default:
        break
    }
  }
  return summary
}

/** A journaled fact as `--json` prints it: its type and fields, the phase it came from and when. */
export function factJson(recorded: RecordedFact): RunFactJson {
  const { service: _service, runId: _runId, ...fields } = recorded.fact
  return { ...fields, phase: recorded.phase, at: recorded.at }
}
