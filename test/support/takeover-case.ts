/**
 * What a takeover test does for one kill point: the demo service under load, `handover
 * upgrade` SIGKILLed once `phase` started (and, with `whileHolding`, once requests are held),
 * then no command. The agent must resume the run by itself; the run ends on v2 with nothing
 * lost and under 10 s without a successful answer; `handover follow` re-attaches to it.
 */
import type { Test } from 'tap'
import { join } from 'node:path'
import { DEMO_IMAGES } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { killWhenStarted, runRow, spawnUpgrade } from '../../scripts/lib/killed-upgrade.js'
import { startLoad } from '../../scripts/lib/load-generator.js'
import { createTestService } from '../../scripts/lib/throwaway-service.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import type { PhaseName } from '../../src/protocol/phases.js'
import { assertOnlyRetryable, assertRowsReadBack, assertRunState, assertSlotsOn, schemaVersion } from './resume-assertions.js'

export interface TakeoverPoint {
  phase: PhaseName
  whileHolding?: boolean
}

export async function killedThenTakenOver(t: Test, prefix: string, point: TakeoverPoint): Promise<void> {
    const svc = await createTestService(prefix)
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
}
