/**
 * What `handover follow` prints of the journal as it grows: a running step waits for its
 * outcome (it is not reported as cut off), and a step left started by a dead process is
 * printed once the takeover's step follows it.
 */
import t from 'tap'
import { stepsToPrint } from '../../src/cli/follow-steps.js'
import type { StatusStepJson } from '../../src/cli/json-output.js'

const step = (phase: string, status: StatusStepJson['status']): StatusStepJson => ({ phase, action: 'forward', status, startedAt: '2026-12-06T23:02:00.000Z', durationSeconds: status === 'started' ? null : 1, errorMessage: null })

t.test('the running step waits, however many steps were printed before it', async (t) => {
  const journal = [step('preflight', 'completed'), step('backup', 'completed'), step('disable-standby', 'completed'), step('upgrade-standby', 'started')]
  t.same(stepsToPrint(journal, 0).map((s) => s.phase), ['preflight', 'backup', 'disable-standby'], 'first poll: the three finished steps')
  t.same(stepsToPrint(journal, 3), [], 'next poll: upgrade-standby still runs, nothing to print')
  journal[3] = step('upgrade-standby', 'completed')
  journal.push(step('expand', 'started'))
  t.same(stepsToPrint(journal, 3).map((s) => `${s.phase} ${s.status}`), ['upgrade-standby completed'], 'printed once it completes, with its outcome')
})

t.test('a step its process left started is printed once a later step exists', async (t) => {
  const journal = [step('preflight', 'completed'), step('flip', 'started'), step('flip', 'completed')]
  t.same(stepsToPrint(journal, 1).map((s) => `${s.phase} ${s.status}`), ['flip started', 'flip completed'])
})
