/**
 * No operator after a kill: `handover upgrade` SIGKILLed in a phase under load, and nothing
 * typed afterwards. The agent sees the run's lease lapse and resumes it by itself; the run
 * ends on v2 with nothing lost, and the longest time no client got a successful answer
 * stays under 10 s even when the kill lands while requests are held. `handover follow`
 * re-attaches to the taken-over run. Real Docker, real MariaDB, a real agent process.
 */
import t from 'tap'
import { join } from 'node:path'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { killWhenStarted, runRow, spawnUpgrade } from '../../scripts/lib/killed-upgrade.js'
import { createTestService, removeLeftovers } from '../../scripts/lib/throwaway-service.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { killedThenTakenOver, type TakeoverPoint } from '../support/takeover-case.js'

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-takeover')
})

const KILL_POINTS: TakeoverPoint[] = [{ phase: 'expand' }, { phase: 'flip', whileHolding: true }, { phase: 'contract', whileHolding: true }]

for (const point of KILL_POINTS) {
  t.test(`killed in ${point.phase}${point.whileHolding ? ' while requests are held' : ''}: the agent resumes the run by itself`, (t) => killedThenTakenOver(t, 'it-takeover', point))
}

t.test('with takeover off, a killed run waits for an operator', async (t) => {
  const svc = await createTestService('it-takeover', { takeover: false })
  t.teardown(svc.cleanup)
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  t.equal(deploy.code, 0, 'deployed v1')
  const upgrade = spawnUpgrade(svc, DEMO_IMAGES['2'])
  await killWhenStarted(svc, upgrade, 'upgrade-standby')
  const proxy = new AdminClient(join(svc.dir, 'agent.sock'), 10)
  t.same(await proxy.listRuns(), [], 'the run was never watched')
  await new Promise((resolve) => setTimeout(resolve, 5_000))
  t.equal((await runRow(svc)).state, 'running', 'five seconds on, the run is still waiting')
  const resume = await runHandover(['resume', '--config', svc.configFile])
  t.equal(resume.code, 0, 'an operator resumes it', { output: resume.stdout + resume.stderr })
})
