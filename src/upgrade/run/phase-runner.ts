import { HandoverError, errorMessage } from '../../errors.js'
import { runBounded, WorkDidNotStopError, type Bound } from './bounded-work.js'
import type { EventBus } from '../reporting/event-bus.js'
import type { RunResult } from '../../protocol/events.js'
import type { Phase, UpgradeContext } from './upgrade-context.js'

export interface RunOutcome {
  result: RunResult
  failedPhase?: string
  error?: { code: string; message: string }
  undoError?: { phase: string; code: string; message: string }
  /** Whether v2 had served when the run ended: past that point nothing is undone automatically. */
  pointOfNoReturnPassed: boolean
}

/**
 * Runs phases in order. When one fails before the point of no return, it undoes that phase
 * and every completed one in reverse order; past the point of no return it stops and says so,
 * since only the operator can decide how to carry v2's writes back. A phase past its timeout
 * is cancelled and waited for; one that does not stop is not undone beside itself.
 */
export async function runPhases(phases: readonly Phase[], context: UpgradeContext, bus: EventBus, resumed?: ResumePoint): Promise<RunOutcome> {
  const base = { service: context.config.service.name, runId: context.runId }
  const started: Phase[] = resumed ? phases.slice(0, resumed.from).filter((phase) => resumed.started.includes(phase)) : []
  for (const phase of phases.slice(resumed?.from ?? 0)) {
    await bus.emit({ ...base, type: 'phase-started', phase: phase.name })
    started.push(phase)
    const began = performance.now()
    try {
      await runBounded((signal) => phase.forward(context, signal), bound(context, phase, `phase ${phase.name}`))
      await context.settleReports()
      await bus.emit({ ...base, type: 'phase-completed', phase: phase.name, durationSeconds: secondsSince(began) })
    } catch (failure) {
      // What the phase did before it failed is journaled before its failure.
      await context.settleReports().catch(() => undefined)
      const error = describe(failure)
      await bus.emit({ ...base, type: 'phase-failed', phase: phase.name, durationSeconds: secondsSince(began), errorCode: error.code, errorMessage: error.message })
      const failed = { failedPhase: phase.name, error, pointOfNoReturnPassed: context.pointOfNoReturnPassed }
      if (context.pointOfNoReturnPassed || failure instanceof WorkDidNotStopError) return { result: 'failed', ...failed }
      const undoError = await undoAll(started.reverse(), context, bus)
      return { result: undoError ? 'failed' : 'rolled_back', ...failed, ...(undoError ? { undoError } : {}) }
    }
  }
  return { result: 'succeeded', pointOfNoReturnPassed: context.pointOfNoReturnPassed }
}

/** Where a resumed run goes on: the first phase to run, and the phases an earlier process started (undone on a failure). */
export interface ResumePoint {
  from: number
  started: readonly Phase[]
}

/**
 * Undoes `phases` (given in the order they ran) in reverse: an abort, or a resume told to
 * roll back. Each undo checks the real state first, so a phase that had barely started
 * costs nothing.
 */
export async function undoPhases(phases: readonly Phase[], context: UpgradeContext, bus: EventBus): Promise<RunOutcome> {
  const undoError = await undoAll([...phases].reverse(), context, bus)
  return { result: undoError ? 'failed' : 'rolled_back', pointOfNoReturnPassed: context.pointOfNoReturnPassed, ...(undoError ? { undoError, failedPhase: undoError.phase, error: { code: undoError.code, message: undoError.message } } : {}) }
}

/** Stops at the first undo that fails: later undos assume the earlier ones restored their state. */
async function undoAll(phases: Phase[], context: UpgradeContext, bus: EventBus): Promise<RunOutcome['undoError']> {
  const base = { service: context.config.service.name, runId: context.runId }
  for (const phase of phases) {
    if (!phase.undo) continue
    await bus.emit({ ...base, type: 'phase-undo-started', phase: phase.name })
    const began = performance.now()
    try {
      const undo = phase.undo.bind(phase)
      await runBounded((signal) => undo(context, signal), bound(context, phase, `undo of ${phase.name}`))
      await context.settleReports()
      await bus.emit({ ...base, type: 'phase-undone', phase: phase.name, durationSeconds: secondsSince(began), ok: true })
    } catch (failure) {
      await context.settleReports().catch(() => undefined)
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

/** The phase's bound from the config's timeouts section, the same for its forward and its undo. */
function bound(context: UpgradeContext, phase: Phase, what: string): Bound {
  const { timeouts } = context.config
  return { what, seconds: timeouts.phases[phase.name], graceSeconds: timeouts.cancelGraceSeconds }
}
