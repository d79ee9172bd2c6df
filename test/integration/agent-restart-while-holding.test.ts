/**
 * The agent SIGKILLed while it holds requests during a real upgrade under load, and started
 * again a second later the way systemd does (deploy/systemd/handover-agent.service). The
 * upgrade waits for the agent instead of failing, the restarted agent routes from its saved
 * table (the new slot still buffering), and the run ends on v2. Clients whose connection the
 * dead agent held lose only that connection (they were never answered, so nothing they were
 * told was saved is lost). Real Docker, real MariaDB, real agent processes.
 */
import t from 'tap'
import { join } from 'node:path'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { startLoad } from '../../scripts/lib/load-generator.js'
import { createTestService, removeLeftovers } from '../../scripts/lib/throwaway-service.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { assertRowsReadBack, assertRunState, assertSlotsOn, schemaVersion } from '../support/resume-assertions.js'

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-agentrestart')
})

t.test('the agent killed and restarted while it holds requests: the upgrade finishes on v2, no acknowledged write lost', async (t) => {
  const svc = await createTestService('it-agentrestart')
  t.teardown(svc.cleanup)
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  t.equal(deploy.code, 0, 'deployed v1', { output: deploy.stdout + deploy.stderr })
  const proxy = new AdminClient(join(svc.dir, 'agent.sock'), 5)
  const load = startLoad({ baseUrl: svc.proxyUrl, concurrency: 8, maxDurationMs: 180_000, maxRequests: 300_000, postRatio: 0.4, updateRatio: 0.2, deleteRatio: 0.03, requestTimeoutMs: 30_000, maxFailureDetails: 1_000_000 })
  t.teardown(() => load.stop().then(() => undefined))
  await waitUntil(() => load.progress().written.length >= 100, 20_000, 'rows written before the upgrade')

  const upgrade = runHandover(['upgrade', '--config', svc.configFile, '--image', DEMO_IMAGES['2']])
  await waitUntil(async () => (await proxy.getService(svc.name)).buffered > 0, 90_000, 'requests held by the flip', 10)
  const killedAt = load.progress().durationMs
  const firstPid = svc.agent.pid
  await svc.crashAgent(1000)
  const backAt = load.progress().durationMs
  t.not(svc.agent.pid, firstPid, 'a new agent process runs')

  const result = await upgrade
  t.equal(result.code, 0, 'the upgrade succeeds', { output: result.stdout + result.stderr })
  const writtenAfter = load.progress().written.length
  await waitUntil(() => load.progress().written.length >= writtenAfter + 50, 20_000, 'rows written after the upgrade')
  const report = await load.stop()

  // `atMs` counts from the load's start, like killedAt and backAt.
  const outsideRestart = report.failures.filter((failure) => !(failure.status === 503 && failure.retryAfter) && (failure.kind !== 'socket' || failure.atMs < killedAt - 500 || failure.atMs > backAt + 2000))
  t.same(outsideRestart, [], `the only failures are 503 + Retry-After and connections cut while the agent was down (${report.failed} of ${report.sent})`)
  await assertRowsReadBack(t, svc, report)
  await assertSlotsOn(t, svc, DEMO_IMAGES['2'], '2')
  t.same(await schemaVersion(svc), ['2'], 'the version table says 2')
  await assertRunState(t, svc, 'succeeded')
  const route = await proxy.getService(svc.name)
  t.same([route.slots.blue.state, route.slots.green.state, route.buffered], ['active', 'active', 0], 'the restarted agent serves from both slots, nothing held')
})
