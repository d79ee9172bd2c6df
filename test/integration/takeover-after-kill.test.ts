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
import { startLoad } from '../../scripts/lib/load-generator.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import type { PhaseName } from '../../src/protocol/phases.js'
import { killWhenStarted, runRow, spawnUpgrade } from '../../scripts/lib/killed-upgrade.js'
import { assertOnlyRetryable, assertRowsReadBack, assertRunState, assertSlotsOn, schemaVersion } from '../support/resume-assertions.js'
import { createTestService, removeLeftovers } from '../../scripts/lib/throwaway-service.js'

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-takeover')
})

const KILL_POINTS: { phase: PhaseName; whileHolding?: boolean }[] = [{ phase: 'expand' }, { phase: 'flip', whileHolding: true }, { phase: 'contract', whileHolding: true }]

for (const point of KILL_POINTS) {
  t.test(`killed in ${point.phase}${point.whileHolding ? ' while requests are held' : ''}: the agent resumes the run by itself`, async (t) => {
    const svc = await createTestService('it-takeover')
    t.teardown(svc.cleanup)
    const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
    t.equal(deploy.code, 0, 'deployed v1', { output: deploy.stdout + deploy.stderr })
    const proxy = new AdminClient(join(svc.dir, 'agent.sock'), 10)
    const load = startLoad({ baseUrl: svc.proxyUrl, concurrency: 4, maxDurationMs: 180_000, maxRequests: 200_000, postRatio: 0.5, updateRatio: 0.2, requestTimeoutMs: 30_000, maxFailureDetails: 1_000_000 })
    t.teardown(() => load.stop().then(() => undefined))
    await waitUntil(() => load.progress().written.length >= 50, 20_000, 'rows written before the upgrade')

    const upgrade = spawnUpgrade(svc, DEMO_IMAGES['2'])
    const holding = async (): Promise<boolean> => (await proxy.getService(svc.name)).buffered > 0
    await killWhenStarted(svc, upgrade, point.phase, point.whileHolding ? holding : undefined)
    const killedAt = Date.now()
    const killed = await runRow(svc)
    t.equal(killed.state, 'running', 'the killed run is left running')

    await waitUntil(async () => (await proxy.listRuns()).some((run) => run.runId === killed.id && run.state === 'taking-over'), 15_000, 'the agent to take the run over')
    const tookOverMs = Date.now() - killedAt
    t.ok(tookOverMs < 10_000, `the agent took over ${tookOverMs} ms after the kill (under 10 s)`)
    const follow = await runHandover(['follow', '--config', svc.configFile, '--timeout', '120'])
    t.equal(follow.code, 0, 'follow re-attaches and exits 0 when the run succeeds', { output: follow.stdout + follow.stderr })
    t.match(follow.stdout, new RegExp(`run ${killed.id} succeeded`), 'and says so')
    t.match(follow.stdout, /contract\s+completed/, 'printing the phases from the journal')

    const writtenAfter = load.progress().written.length
    await waitUntil(() => load.progress().written.length >= writtenAfter + 50, 20_000, 'rows written after the takeover')
    const report = await load.stop()
    assertOnlyRetryable(t, report)
    t.ok(report.longestGapMs < 10_000, `the longest time without a successful answer was ${report.longestGapMs} ms (under 10 s)`)
    await assertRowsReadBack(t, svc, report)
    await assertSlotsOn(t, svc, DEMO_IMAGES['2'], '2')
    t.same(await schemaVersion(svc), ['2'], 'the version table says 2')
    t.equal(await assertRunState(t, svc, 'succeeded'), killed.id, 'the same run finished')
    t.same(await proxy.listRuns(), [], 'the agent no longer watches it')
    const metrics = await (await fetch(svc.agent.metricsUrl)).text()
    t.match(metrics, new RegExp(`handover_run_takeovers_total\\{service="${svc.name}",outcome="finished"\\} 1`), 'the takeover is counted')
  })
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
