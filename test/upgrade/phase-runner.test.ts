import t from 'tap'
import { HandoverError } from '../../src/errors.js'
import { EventBus } from '../../src/upgrade/reporting/event-bus.js'
import type { UpgradeEvent } from '../../src/protocol/events.js'
import { runPhases } from '../../src/upgrade/run/phase-runner.js'
import type { Phase } from '../../src/upgrade/run/upgrade-context.js'
import { fakeContext } from './fixtures/fake-context.js'

class BoomError extends HandoverError {
  readonly code = 'BOOM'
}

/** Test phases borrow real phase names (timeouts are looked up by name); their work is the fake. */
const A = 'preflight'
const B = 'backup'
const C = 'disable-standby'
const D = 'upgrade-standby'

function recordingPhase(name: Phase['name'], trace: string[], options: { fail?: boolean; failUndo?: boolean; crossPoint?: boolean } = {}): Phase {
  return {
    name,
    async forward(context) {
      trace.push(`forward ${name}`)
      if (options.crossPoint) await context.markPointOfNoReturn(true)
      if (options.fail) throw new BoomError(`${name} broke`)
    },
    async undo() {
      trace.push(`undo ${name}`)
      if (options.failUndo) throw new BoomError(`undo of ${name} broke`)
    },
  }
}

function recordingBus(events: UpgradeEvent[]): EventBus {
  const bus = new EventBus()
  bus.subscribe((event) => void events.push(event), { required: true })
  return bus
}

const names = (events: UpgradeEvent[]) => events.map((e) => `${e.type} ${'phase' in e ? e.phase : ''}`)

t.test('runs every phase in order and reports each', async (t) => {
  const trace: string[] = []
  const events: UpgradeEvent[] = []
  const outcome = await runPhases([recordingPhase(A, trace), recordingPhase(B, trace)], fakeContext(), recordingBus(events))
  t.equal(outcome.result, 'succeeded')
  t.same(trace, [`forward ${A}`, `forward ${B}`])
  t.same(names(events), [`phase-started ${A}`, `phase-completed ${A}`, `phase-started ${B}`, `phase-completed ${B}`])
})

t.test('a failure undoes the failed phase and every earlier one, newest first', async (t) => {
  const trace: string[] = []
  const events: UpgradeEvent[] = []
  const phases = [recordingPhase(A, trace), recordingPhase(B, trace), recordingPhase(C, trace, { fail: true }), recordingPhase(D, trace)]
  const outcome = await runPhases(phases, fakeContext(), recordingBus(events))
  t.equal(outcome.result, 'rolled_back')
  t.equal(outcome.failedPhase, C)
  t.same(outcome.error, { code: 'BOOM', message: `${C} broke` })
  t.same(trace, [`forward ${A}`, `forward ${B}`, `forward ${C}`, `undo ${C}`, `undo ${B}`, `undo ${A}`])
  t.ok(events.some((e) => e.type === 'phase-failed' && e.phase === C && e.errorCode === 'BOOM'))
  t.same(names(events).filter((e) => e.startsWith('phase-undo')), [`phase-undo-started ${C}`, `phase-undone ${C}`, `phase-undo-started ${B}`, `phase-undone ${B}`, `phase-undo-started ${A}`, `phase-undone ${A}`])
})

t.test('past the point of no return nothing is undone, and the outcome says the point was passed', async (t) => {
  const trace: string[] = []
  const events: UpgradeEvent[] = []
  const phases = [recordingPhase(A, trace, { crossPoint: true }), recordingPhase(B, trace, { fail: true })]
  const outcome = await runPhases(phases, fakeContext(), recordingBus(events))
  t.equal(outcome.result, 'failed')
  t.equal(outcome.pointOfNoReturnPassed, true)
  t.same(trace, [`forward ${A}`, `forward ${B}`])
  t.notOk(events.some((e) => e.type === 'phase-undo-started'), 'no undo was even started')
})

t.test('an undo that fails stops the rollback and is reported', async (t) => {
  const trace: string[] = []
  const phases = [recordingPhase(A, trace), recordingPhase(B, trace, { failUndo: true }), recordingPhase(C, trace, { fail: true })]
  const outcome = await runPhases(phases, fakeContext(), recordingBus([]))
  t.equal(outcome.result, 'failed')
  t.same(outcome.undoError, { phase: B, code: 'BOOM', message: `undo of ${B} broke` })
  t.same(trace, [`forward ${A}`, `forward ${B}`, `forward ${C}`, `undo ${C}`, `undo ${B}`])
})

t.test('a phase past its timeout is cancelled, and its undo starts only after it stopped', async (t) => {
  const trace: string[] = []
  const slow: Phase = {
    name: A,
    // Stops a while after its signal aborts, as a killed query or an aborted Docker call does.
    forward: (_context, signal) =>
      new Promise((_, reject) => {
        signal.addEventListener('abort', () => {
          trace.push(`abort seen: ${(signal.reason as Error).message}`)
          setTimeout(() => {
            trace.push('forward stopped')
            reject(signal.reason)
          }, 100)
        })
      }),
    undo: async () => void trace.push('undo'),
  }
  const outcome = await runPhases([slow], fakeContext({ timeoutSeconds: 0.05 }), recordingBus([]))
  t.equal(outcome.result, 'rolled_back')
  t.equal(outcome.error?.code, 'TIMEOUT')
  t.same(trace, [`abort seen: phase ${A} did not finish within 0.05s`, 'forward stopped', 'undo'])
})

t.test('a phase that does not stop when cancelled is reported and not undone beside itself', async (t) => {
  const trace: string[] = []
  const stubborn: Phase = { name: B, forward: () => new Promise(() => {}), undo: async () => void trace.push(`undo ${B}`) }
  const began = performance.now()
  const outcome = await runPhases([recordingPhase(A, trace), stubborn], fakeContext({ timeoutSeconds: 0.05, cancelGraceSeconds: 0.2 }), recordingBus([]))
  const seconds = (performance.now() - began) / 1000
  t.equal(outcome.result, 'failed')
  t.equal(outcome.error?.code, 'DID_NOT_STOP')
  t.match(outcome.error?.message, /phase backup did not finish within 0\.05s and was still running 0\.2s after it was cancelled/)
  t.same(trace, [`forward ${A}`], 'no undo ran, not even of the earlier phase')
  t.ok(seconds >= 0.25 && seconds < 2, `gave up after the timeout plus the grace (${seconds.toFixed(2)}s)`)
})

t.test('an undo past its timeout is cancelled too, and reported as the undo error', async (t) => {
  const trace: string[] = []
  const phases: Phase[] = [
    { name: A, forward: async () => {}, undo: (_context, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))) },
    { name: B, forward: async () => { throw new BoomError('boom') }, undo: async () => void trace.push(`undo ${B}`) },
  ]
  const outcome = await runPhases(phases, fakeContext({ timeouts: { preflight: 0.05 } }), recordingBus([]))
  t.equal(outcome.result, 'failed')
  t.same(trace, [`undo ${B}`])
  t.match(outcome.undoError, { phase: A, code: 'TIMEOUT', message: /undo of preflight did not finish within 0\.05s/ })
})

t.test('a required subscriber that fails stops the run before the phase starts', async (t) => {
  const trace: string[] = []
  const bus = new EventBus()
  bus.subscribe(() => {
    throw new Error('journal down')
  }, { required: true })
  await t.rejects(runPhases([recordingPhase(A, trace)], fakeContext(), bus), /journal down/)
  t.same(trace, [])
})

t.test('an optional subscriber that fails is reported and ignored', async (t) => {
  const trace: string[] = []
  const failures: string[] = []
  const bus = new EventBus((error) => failures.push((error as Error).message))
  bus.subscribe(() => {
    throw new Error('agent away')
  }, { required: false })
  const outcome = await runPhases([recordingPhase(A, trace)], fakeContext(), bus)
  t.equal(outcome.result, 'succeeded')
  t.equal(failures.length, 2)
})
