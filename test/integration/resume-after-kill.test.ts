/**
 * A `handover upgrade` CLI killed with SIGKILL in the middle of a phase, under load, and the
 * run taken over by `handover resume`: for each kill point the service ends on v2 in both
 * slots, the version table says 2, the journal run succeeded, and the clients lost nothing.
 * Real Docker, real MariaDB, a real agent process; the CLI runs from dist/.
 */
import t from 'tap'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { startLoad } from '../../scripts/lib/load-generator.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import type { PhaseName } from '../../src/protocol/phases.js'
import { killWhenStarted, runRow, spawnUpgrade, waitLockFree } from '../../scripts/lib/killed-upgrade.js'
import { assertOnlyRetryable, assertRowsReadBack, assertRunState, assertSlotsOn, schemaVersion } from '../support/resume-assertions.js'
import { createTestService, JOURNAL_SCHEMA, removeLeftovers } from '../../scripts/lib/throwaway-service.js'

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-resume')
})

interface KillPoint {
  phase: PhaseName
  /** Kill only once the proxy holds requests (the flip's buffer). */
  whileHolding?: boolean
}

const KILL_POINTS: KillPoint[] = [{ phase: 'upgrade-standby' }, { phase: 'expand' }, { phase: 'flip', whileHolding: true }, { phase: 'contract', whileHolding: true }]

for (const point of KILL_POINTS) {
  t.test(`killed in ${point.phase}${point.whileHolding ? ' while requests are held' : ''}: resume finishes the run on v2, nothing lost`, async (t) => {
    const svc = await createTestService('it-resume', { takeover: false })
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
    const killed = await runRow(svc)
    t.equal(killed.state, 'running', `the killed run is left running in the journal (${point.phase})`)
    if (point.whileHolding) t.ok((await proxy.getService(svc.name)).buffered > 0, 'requests are held in the buffer after the kill')

    await waitLockFree(svc)
    const resume = await runHandover(['resume', '--config', svc.configFile])
    t.equal(resume.code, 0, 'resume succeeds', { output: resume.stdout + resume.stderr })
    t.match(resume.stdout, new RegExp(`run ${killed.id} stopped in ${point.phase}.*going forward from ${point.phase}`), 'resume says where the run stopped and where it goes on')

    const writtenAfter = load.progress().written.length
    await waitUntil(() => load.progress().written.length >= writtenAfter + 50, 20_000, 'rows written after the resume')
    const report = await load.stop()
    const refused = assertOnlyRetryable(t, report)
    t.comment(`${point.phase}: ${report.sent} requests, ${refused} answered 503 + Retry-After`)
    await assertRowsReadBack(t, svc, report)
    await assertSlotsOn(t, svc, DEMO_IMAGES['2'], '2')
    t.same(await schemaVersion(svc), ['2'], 'the version table says 2')
    t.equal(await assertRunState(t, svc, 'succeeded'), killed.id, 'the same run finished')
    const [steps] = await svc.db.query<RowDataPacket[]>(`SELECT status FROM ${JOURNAL_SCHEMA}.handover_steps WHERE run_id = ? AND phase = ? AND action = 'forward' ORDER BY id`, [killed.id, point.phase])
    t.same(steps.map((row) => row.status), ['started', 'completed'], `${point.phase}: the killed step stays open, the resumed one completed, in the same run`)
    const route = await proxy.getService(svc.name)
    t.same([route.slots.blue.state, route.slots.green.state], ['active', 'active'], 'both slots serve')
  })
}
