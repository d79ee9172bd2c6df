/** The agent resumes a run killed as each of preflight, backup, disable-standby, upgrade-standby starts, with no command typed (see takeover-case.ts). */
import t from 'tap'
import { ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { removeLeftovers } from '../../scripts/lib/throwaway-service.js'
import type { PhaseName } from '../../src/protocol/phases.js'
import { killedThenTakenOver } from '../support/takeover-case.js'

const PREFIX = 'it-early'

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers(PREFIX)
})

const PHASES: PhaseName[] = ['preflight', 'backup', 'disable-standby', 'upgrade-standby']

for (const phase of PHASES) {
  t.test(`killed as ${phase} starts: the agent resumes the run by itself`, (t) => killedThenTakenOver(t, PREFIX, { phase }))
}
