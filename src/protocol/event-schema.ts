/**
 * Checks an upgrade event reported over the admin API before it becomes metrics. Fields
 * that end up as label values (service, phase) must be short plain names, so a bad report
 * cannot blow up the series count. Fields this agent does not know are ignored, so a newer
 * `handover` can report to an older agent.
 */
import type { RunResult, UpgradeEvent } from './events.js'
import * as v from './validate.js'

const EVENT_TYPES = ['run-started', 'phase-started', 'phase-completed', 'phase-failed', 'phase-undone', 'run-finished'] as const
const RUN_RESULTS: readonly RunResult[] = ['succeeded', 'rolled_back', 'failed']
const MAX_DURATION_SECONDS = 7 * 24 * 3600

export function parseUpgradeEvent(value: unknown, where: string): UpgradeEvent {
  const body = v.record(value, where)
  const type = v.oneOf(body.type, `${where}.type`, EVENT_TYPES)
  const base = { service: v.name(body.service, `${where}.service`), runId: v.text(body.runId, `${where}.runId`, 128) }
  const duration = (): number => v.finite(body.durationSeconds, `${where}.durationSeconds`, 0, MAX_DURATION_SECONDS)
  const phase = (): string => v.name(body.phase, `${where}.phase`)
  switch (type) {
    case 'run-started':
      return {
        type,
        ...base,
        fromVersion: v.text(body.fromVersion, `${where}.fromVersion`, 128),
        toVersion: v.text(body.toVersion, `${where}.toVersion`, 128),
        mode: v.oneOf(body.mode, `${where}.mode`, ['strict'] as const),
      }
    case 'phase-started':
      return { type, ...base, phase: phase() }
    case 'phase-completed':
      return { type, ...base, phase: phase(), durationSeconds: duration() }
    case 'phase-failed':
      return {
        type,
        ...base,
        phase: phase(),
        durationSeconds: duration(),
        errorCode: v.text(body.errorCode, `${where}.errorCode`, 128),
        errorMessage: v.text(body.errorMessage, `${where}.errorMessage`, 4000, 0),
      }
    case 'phase-undone':
      return { type, ...base, phase: phase(), durationSeconds: duration(), ok: v.boolean(body.ok, `${where}.ok`) }
    case 'run-finished':
      return { type, ...base, result: v.oneOf(body.result, `${where}.result`, RUN_RESULTS), durationSeconds: duration() }
  }
}
