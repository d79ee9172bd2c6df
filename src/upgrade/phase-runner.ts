import { HandoverError, TimeoutError, errorMessage } from '../errors.js'
import type { EventBus } from './event-bus.js'
import type { RunResult } from '../protocol/events.js'
import type { Phase, UpgradeContext } from './upgrade-context.js'

export interface RunOutcome {
  result: RunResult
  failedPhase?: string
  error?: { code: string; message: string }
  undoError?: { phase: string; code: string; message: string }
}

/**
 * Runs phases in order. When one fails before the point of no return, it undoes that phase
 * and every completed one in reverse order; past the point of no return it stops and says so,
 * since only the operator can decide how to carry v2's writes back.
 */
export async function runPhases(phases: readonly Phase[], context: UpgradeContext, bus: EventBus): Promise<RunOutcome> {
  const base = { service: context.config.service.name, runId: context.runId }
  const started: Phase[] = []
  for (const phase of phases) {
    await bus.emit({ ...base, type: 'phase-started', phase: phase.name })
    started.push(phase)
    const began = performance.now()
    try {
      await withTimeout(phase.forward(context), phase.timeoutSeconds(context), `phase ${phase.name}`)
      await bus.emit({ ...base, type: 'phase-completed', phase: phase.name, durationSeconds: secondsSince(began) })
    } catch (failure) {
      const error = describe(failure)
      await bus.emit({ ...base, type: 'phase-failed', phase: phase.name, durationSeconds: secondsSince(began), errorCode: error.code, errorMessage: error.message })
      if (context.pointOfNoReturnPassed) return { result: 'failed', failedPhase: phase.name, error }
      const undoError = await undoAll(started.reverse(), context, bus)
      return { result: undoError ? 'failed' : 'rolled_back', failedPhase: phase.name, error, ...(undoError ? { undoError } : {}) }
    }
  }
  return { result: 'succeeded' }
}

/** Stops at the first undo that fails: later undos assume the earlier ones restored their state. */
async function undoAll(phases: Phase[], context: UpgradeContext, bus: EventBus): Promise<RunOutcome['undoError']> {
  const base = { service: context.config.service.name, runId: context.runId }
  for (const phase of phases) {
    if (!phase.undo) continue
    await bus.emit({ ...base, type: 'phase-undo-started', phase: phase.name })
    const began = performance.now()
    try {
      await withTimeout(phase.undo(context), phase.timeoutSeconds(context), `undo of ${phase.name}`)
      await bus.emit({ ...base, type: 'phase-undone', phase: phase.name, durationSeconds: secondsSince(began), ok: true })
    } catch (failure) {
      const error = describe(failure)
      await bus.emit({ ...base, type: 'phase-undone', phase: phase.name, durationSeconds: secondsSince(began), ok: false, errorCode: error.code, errorMessage: error.message })
      return { phase: phase.name, ...error }
    }
  }
  return undefined
}

function describe(failure: unknown): { code: string; message: string } {
  if (failure instanceof HandoverError) return { code: failure.code, message: failure.message }
  return { code: 'UNEXPECTED', message: errorMessage(failure) }
}

function secondsSince(began: number): number {
  return (performance.now() - began) / 1000
}

async function withTimeout<T>(work: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, seconds)), seconds * 1000)
  })
  try {
    return await Promise.race([work, deadline])
  } finally {
    clearTimeout(timer)
  }
}
