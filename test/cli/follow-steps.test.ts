/**
 * What `handover follow` prints of the journal as it grows: a running step waits for its
 * outcome (it is not reported as cut off), also when the next step started before its
 * completion was written; a step left started by a dead process is printed once the
 * takeover's step of that phase follows it, or once the run has ended.
 */
import t from 'tap'
import { stepsToPrint } from '../../src/cli/follow-steps.js'
import type { StatusStepJson } from '../../src/cli/json-output.js'

const step = (phase: string, status: StatusStepJson['status']): StatusStepJson => ({ phase, action: 'forward', status, startedAt: '2026-12-06T23:02:00.000Z', durationSeconds: status === 'started' ? null : 1, errorMessage: null })
const lines = (steps: StatusStepJson[]): string[] => steps.map((s) => `${s.phase} ${s.status}`)

t.test('the running step waits, however many steps were printed before it in the same poll', async (t) => {
  const journal = [step('preflight', 'completed'), step('backup', 'completed'), step('disable-standby', 'completed'), step('upgrade-standby', 'started')]
  t.same(lines(stepsToPrint(journal, 0, false)), ['preflight completed', 'backup completed', 'disable-standby completed'], 'first poll: the three finished steps')
  t.same(stepsToPrint(journal, 3, false), [], 'next poll: upgrade-standby still runs, nothing to print')
  journal[3] = step('upgrade-standby', 'completed')
  journal.push(step('expand', 'started'))
  t.same(lines(stepsToPrint(journal, 3, false)), ['upgrade-standby completed'], 'printed once it completes, with its outcome')
})

t.test("a step whose completion lands after the next step's start is not taken for dead", async (t) => {
  const journal = [step('preflight', 'completed'), step('flip', 'started'), step('contract', 'started')]
  t.same(lines(stepsToPrint(journal, 0, false)), ['preflight completed'])
})

t.test("a step its process left started is printed once the takeover's step of that phase exists, or the run ended", async (t) => {
  const journal = [step('preflight', 'completed'), step('flip', 'started'), step('flip', 'completed')]
  t.same(lines(stepsToPrint(journal, 1, false)), ['flip started', 'flip completed'])
  t.same(lines(stepsToPrint([step('preflight', 'completed'), step('flip', 'started')], 1, true)), ['flip started'], 'the run ended: nothing will supersede it')
})
