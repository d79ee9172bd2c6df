/**
 * Where a run whose process died goes on, from its journal steps alone (runPosition), and
 * the runner's resume from that point: forward from the first phase not completed, and on a
 * failure the undo of every phase started, the earlier process's included.
 */
import t from 'tap'
import type { StepRecord } from '../../src/db/journal/journal.js'
import { HandoverError } from '../../src/errors.js'
import { EventBus } from '../../src/upgrade/reporting/event-bus.js'
import { runPhases, undoPhases } from '../../src/upgrade/run/phase-runner.js'
import { STRICT_PHASES } from '../../src/upgrade/run/strict-phases.js'
import { runPosition } from '../../src/upgrade/steering/unfinished-run.js'
import type { Phase } from '../../src/upgrade/run/upgrade-context.js'
import { fakeContext } from './fixtures/fake-context.js'

class BoomError extends HandoverError {
  readonly code = 'BOOM'
}

function step(phase: string, status: StepRecord['status'], action: StepRecord['action'] = 'forward'): StepRecord {
  return { phase, action, status, startedAt: '', durationMs: null, errorMessage: null }
}

const done = (...phases: string[]) => phases.map((phase) => step(phase, 'completed'))

t.test('a run killed inside a phase goes on from that phase', async (t) => {
  const position = runPosition(STRICT_PHASES, [...done('preflight', 'backup', 'disable-standby', 'upgrade-standby'), step('expand', 'started')])
  t.equal(STRICT_PHASES[position.next]!.name, 'expand')
  t.same(position.started.map((phase) => phase.name), ['preflight', 'backup', 'disable-standby', 'upgrade-standby', 'expand'])
  t.equal(position.stoppedIn, 'expand')
  t.notOk(position.rollingBack)
})

t.test('a run killed between two phases goes on from the next one', async (t) => {
  const position = runPosition(STRICT_PHASES, done('preflight', 'backup', 'disable-standby', 'upgrade-standby', 'expand', 'flip', 'contract'))
  t.equal(STRICT_PHASES[position.next]!.name, 'upgrade-old')
  t.equal(position.stoppedIn, 'contract')
})

t.test('a run killed before its first step goes on from preflight; one with every phase completed has nothing left', async (t) => {
  t.same(runPosition(STRICT_PHASES, []), { stoppedIn: '(none)', next: 0, started: [], rollingBack: false })
  t.equal(runPosition(STRICT_PHASES, done(...STRICT_PHASES.map((phase) => phase.name))).next, STRICT_PHASES.length)
})

t.test('a run killed while rolling back (a failed forward, or an undo started) says so', async (t) => {
  t.ok(runPosition(STRICT_PHASES, [...done('preflight'), step('backup', 'failed')]).rollingBack)
  t.ok(runPosition(STRICT_PHASES, [...done('preflight'), step('backup', 'failed'), step('backup', 'started', 'undo')]).rollingBack)
})

function recording(name: Phase['name'], trace: string[], fail = false): Phase {
  return {
    name,
    async forward() {
      trace.push(`forward ${name}`)
      if (fail) throw new BoomError(`${name} broke`)
    },
    async undo() {
      trace.push(`undo ${name}`)
    },
  }
}

t.test('resumed, the runner skips completed phases and, on a failure, undoes the earlier process’s phases too', async (t) => {
  const trace: string[] = []
  const phases = [recording('preflight', trace), recording('backup', trace), recording('disable-standby', trace, true)]
  const outcome = await runPhases(phases, fakeContext(), new EventBus(), { from: 1, started: [phases[0]!, phases[1]!] })
  t.equal(outcome.result, 'rolled_back')
  t.same(trace, ['forward backup', 'forward disable-standby', 'undo disable-standby', 'undo backup', 'undo preflight'])
})

t.test('undoPhases undoes what ran, newest first, and reports a rollback', async (t) => {
  const trace: string[] = []
  const phases = [recording('preflight', trace), recording('backup', trace)]
  const outcome = await undoPhases(phases, fakeContext(), new EventBus())
  t.equal(outcome.result, 'rolled_back')
  t.same(trace, ['undo backup', 'undo preflight'])
})
