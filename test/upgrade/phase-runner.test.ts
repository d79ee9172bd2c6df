import t from 'tap'
import { HandoverError } from '../../src/errors.js'
import { EventBus } from '../../src/upgrade/event-bus.js'
import type { UpgradeEvent } from '../../src/protocol/events.js'
import { runPhases } from '../../src/upgrade/phase-runner.js'
import type { Phase, UpgradeContext } from '../../src/upgrade/upgrade-context.js'

class BoomError extends HandoverError {
  readonly code = 'BOOM'
}

/** Only the fields the runner reads; phases here are injected fakes of pure logic. */
function fakeContext(): UpgradeContext {
  const context = {
    config: { service: { name: 'svc' } },
    runId: 'run-1',
    pointOfNoReturnPassed: false,
    async markPointOfNoReturn(passed: boolean) {
      context.pointOfNoReturnPassed = passed
    },
  }
  return context as unknown as UpgradeContext
}

function recordingPhase(name: string, trace: string[], options: { fail?: boolean; failUndo?: boolean; crossPoint?: boolean } = {}): Phase {
  return {
    name,
    timeoutSeconds: () => 5,
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

t.test('runs every phase in order and reports each', async (t) => {
  const trace: string[] = []
  const events: UpgradeEvent[] = []
  const outcome = await runPhases([recordingPhase('a', trace), recordingPhase('b', trace)], fakeContext(), recordingBus(events))
  t.equal(outcome.result, 'succeeded')
  t.same(trace, ['forward a', 'forward b'])
  t.same(events.map((e) => `${e.type} ${'phase' in e ? e.phase : ''}`), ['phase-started a', 'phase-completed a', 'phase-started b', 'phase-completed b'])
})

t.test('a failure undoes the failed phase and every earlier one, newest first', async (t) => {
  const trace: string[] = []
  const events: UpgradeEvent[] = []
  const phases = [recordingPhase('a', trace), recordingPhase('b', trace), recordingPhase('c', trace, { fail: true }), recordingPhase('d', trace)]
  const outcome = await runPhases(phases, fakeContext(), recordingBus(events))
  t.equal(outcome.result, 'rolled_back')
  t.equal(outcome.failedPhase, 'c')
  t.same(outcome.error, { code: 'BOOM', message: 'c broke' })
  t.same(trace, ['forward a', 'forward b', 'forward c', 'undo c', 'undo b', 'undo a'])
  t.ok(events.some((e) => e.type === 'phase-failed' && e.phase === 'c' && e.errorCode === 'BOOM'))
})

t.test('past the point of no return nothing is undone', async (t) => {
  const trace: string[] = []
  const phases = [recordingPhase('a', trace, { crossPoint: true }), recordingPhase('b', trace, { fail: true })]
  const outcome = await runPhases(phases, fakeContext(), recordingBus([]))
  t.equal(outcome.result, 'failed')
  t.same(trace, ['forward a', 'forward b'])
})

t.test('an undo that fails stops the rollback and is reported', async (t) => {
  const trace: string[] = []
  const phases = [recordingPhase('a', trace), recordingPhase('b', trace, { failUndo: true }), recordingPhase('c', trace, { fail: true })]
  const outcome = await runPhases(phases, fakeContext(), recordingBus([]))
  t.equal(outcome.result, 'failed')
  t.same(outcome.undoError, { phase: 'b', code: 'BOOM', message: 'undo of b broke' })
  t.same(trace, ['forward a', 'forward b', 'forward c', 'undo c', 'undo b'])
})

t.test('a phase past its timeout fails with TIMEOUT and is undone', async (t) => {
  const trace: string[] = []
  const slow: Phase = { name: 'slow', timeoutSeconds: () => 0.05, forward: () => new Promise(() => {}), undo: async () => void trace.push('undo slow') }
  const outcome = await runPhases([slow], fakeContext(), recordingBus([]))
  t.equal(outcome.result, 'rolled_back')
  t.equal(outcome.error?.code, 'TIMEOUT')
  t.same(trace, ['undo slow'])
})

t.test('a required subscriber that fails stops the run before the phase starts', async (t) => {
  const trace: string[] = []
  const bus = new EventBus()
  bus.subscribe(() => {
    throw new Error('journal down')
  }, { required: true })
  await t.rejects(runPhases([recordingPhase('a', trace)], fakeContext(), bus), /journal down/)
  t.same(trace, [])
})

t.test('an optional subscriber that fails is reported and ignored', async (t) => {
  const trace: string[] = []
  const failures: string[] = []
  const bus = new EventBus((error) => failures.push((error as Error).message))
  bus.subscribe(() => {
    throw new Error('agent away')
  }, { required: false })
  const outcome = await runPhases([recordingPhase('a', trace)], fakeContext(), bus)
  t.equal(outcome.result, 'succeeded')
  t.equal(failures.length, 2)
})
