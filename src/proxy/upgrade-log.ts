/**
 * The agent's log during an upgrade: every line about a service whose run is in progress
 * carries that run's id (runId), and each upgrade event the agent receives is a line of its
 * own, so one `jq 'select(.runId == "...")'` gives a run's whole story from the agent's side.
 * Lines keep the fields of the event (phase, duration, result, error code and message; a
 * reported fact's numbers and names), never anything from a request.
 */
import { isUpgradeFact, type UpgradeEvent } from '../protocol/events.js'
import type { Logger } from './log.js'

/** Adds runId to lines that name a service with a run in progress (and have no runId yet). */
export function withRunIds(log: Logger, runningRunId: (service: string) => string | undefined): Logger {
  return (line) => {
    const service = (line as { service?: unknown }).service
    if (typeof service !== 'string' || 'runId' in line) return log(line)
    const runId = runningRunId(service)
    log(runId === undefined ? line : { ...line, runId })
  }
}

/** One log line for an upgrade event reported to the agent. */
export function upgradeEventLine(event: UpgradeEvent): object {
  const base = { service: event.service, runId: event.runId }
  if (isUpgradeFact(event)) {
    const { type, service: _service, runId: _runId, ...fields } = event
    return { level: 'info', msg: 'upgrade fact', ...base, fact: type, ...fields }
  }
  switch (event.type) {
    case 'run-started':
      return { level: 'info', msg: 'upgrade started', ...base, fromVersion: event.fromVersion, toVersion: event.toVersion, mode: event.mode }
    case 'phase-started':
      return { level: 'info', msg: 'upgrade phase started', ...base, phase: event.phase }
    case 'phase-completed':
      return { level: 'info', msg: 'upgrade phase completed', ...base, phase: event.phase, durationSeconds: event.durationSeconds }
    case 'phase-failed':
      return { level: 'error', msg: 'upgrade phase failed', ...base, phase: event.phase, durationSeconds: event.durationSeconds, code: event.errorCode, error: event.errorMessage }
    case 'phase-undo-started':
      return { level: 'warn', msg: 'upgrade phase undo started', ...base, phase: event.phase }
    case 'phase-undone':
      return { level: event.ok ? 'warn' : 'error', msg: event.ok ? 'upgrade phase undone' : 'upgrade phase undo failed', ...base, phase: event.phase, durationSeconds: event.durationSeconds, ...(event.errorCode ? { code: event.errorCode } : {}) }
    case 'run-finished':
      return { level: event.result === 'succeeded' ? 'info' : 'error', msg: 'upgrade finished', ...base, result: event.result, durationSeconds: event.durationSeconds }
    default:
      return { level: 'info', msg: 'upgrade event', ...base, type: (event as { type: string }).type }
  }
}
