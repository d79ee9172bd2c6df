import type { Journal } from '../../db/journal/journal.js'
import { isUpgradeFact, type UpgradeEvent } from '../../protocol/events.js'

/**
 * Subscribes the journal to the event stream: a step row before each action, closed after it,
 * and a row for each fact a phase reports, with the phase that reported it.
 */
export function journalRecorder(journal: Journal): (event: UpgradeEvent) => Promise<void> {
  const openSteps = new Map<string, number>()
  let runningPhase: string | undefined
  return async (event) => {
    if (isUpgradeFact(event)) return journal.facts.record(event, runningPhase)
    switch (event.type) {
      case 'phase-started':
      case 'phase-undo-started': {
        const action = event.type === 'phase-started' ? 'forward' : 'undo'
        runningPhase = event.phase
        openSteps.set(`${action}:${event.phase}`, await journal.startStep(event.runId, event.phase, action))
        return
      }
      case 'phase-completed':
        return close(`forward:${event.phase}`, event.durationSeconds)
      case 'phase-failed':
        return close(`forward:${event.phase}`, event.durationSeconds, { code: event.errorCode, message: event.errorMessage })
      case 'phase-undone':
        return close(`undo:${event.phase}`, event.durationSeconds, event.ok ? undefined : { code: event.errorCode ?? 'UNDO_FAILED', message: event.errorMessage ?? 'undo failed' })
      default:
        return
    }
  }

  async function close(key: string, seconds: number, error?: { code: string; message: string }): Promise<void> {
    runningPhase = undefined
    const stepId = openSteps.get(key)
    if (stepId === undefined) return
    openSteps.delete(key)
    await journal.finishStep(stepId, seconds * 1000, error)
  }
}
