/**
 * Steering a run whose `handover upgrade` process died, under load, for real: a new upgrade
 * is refused while it is unfinished, `handover abort` undoes it before the point of no return
 * and refuses after it, and a run whose process still lives is never taken over (the service
 * lock). Real Docker, real MariaDB, a real agent process; the CLI runs from dist/.
 */
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { startLoad, type LoadRun } from '../../scripts/lib/load-generator.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { killWhenStarted, phaseStarted, runRow, spawnUpgrade, waitLockFree } from '../../scripts/lib/killed-upgrade.js'
import { assertOnlyRetryable, assertRowsReadBack, assertRunState, assertSlotsOn, schemaVersion } from '../support/resume-assertions.js'
import { columnsOf } from '../support/test-database.js'
import { createTestService, removeLeftovers, type TestService } from '../../scripts/lib/throwaway-service.js'
import { installStall, removeStall, stalled } from '../../scripts/crash/journal-stall.js'

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-abort')
})

async function deployUnderLoad(t: Test): Promise<{ svc: TestService; load: LoadRun }> {
  const svc = await createTestService('it-abort', { takeover: false })
  t.teardown(svc.cleanup)
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  t.equal(deploy.code, 0, 'deployed v1', { output: deploy.stdout + deploy.stderr })
  const load = startLoad({ baseUrl: svc.proxyUrl, concurrency: 4, maxDurationMs: 180_000, maxRequests: 200_000, postRatio: 0.5, updateRatio: 0.2, requestTimeoutMs: 30_000, maxFailureDetails: 1_000_000 })
  t.teardown(() => load.stop().then(() => undefined))
  await waitUntil(() => load.progress().written.length >= 50, 20_000, 'rows written before the upgrade')
  return { svc, load }
}

t.test('killed in expand: a new upgrade is refused naming resume and abort; abort puts v1 and its schema back', async (t) => {
  const { svc, load } = await deployUnderLoad(t)
  const upgrade = spawnUpgrade(svc, DEMO_IMAGES['2'])
  // Killed once the expand changed the schema, so the abort has something to undo.
  await killWhenStarted(svc, upgrade, 'expand', async () => (await columnsOf(svc.db, svc.schema, 'people')).includes('first_name'))
  const killed = await runRow(svc)
  t.equal(killed.state, 'running', 'the killed run is left running')
  await waitLockFree(svc)

  const again = await runHandover(['upgrade', '--config', svc.configFile, '--image', DEMO_IMAGES['2']])
  t.equal(again.code, 1, 'a new upgrade is refused')
  t.match(again.stderr, /\[UNFINISHED_RUN\]/, 'with its code')
  t.match(again.stderr, new RegExp(`run ${killed.id} .*stopped in expand`), 'naming the run and the phase it stopped in')
  t.match(again.stderr, /handover resume/, 'and resume')
  t.match(again.stderr, /handover abort/, 'and abort')
  t.equal((await runRow(svc)).id, killed.id, 'the refused upgrade started no run')

  const status = await runHandover(['status', '--config', svc.configFile])
  t.match(status.stdout, /its process is gone \(no one holds the service lock\): `handover resume` finishes it, `handover abort` undoes it/, 'status names both ways out')

  const abort = await runHandover(['abort', '--config', svc.configFile])
  t.equal(abort.code, 0, 'abort succeeds', { output: abort.stdout + abort.stderr })
  t.match(abort.stdout, /undoing expand, upgrade-standby, disable-standby, backup, preflight, in this order \(abort\)/, 'abort says what it undoes')

  const report = await load.stop()
  assertOnlyRetryable(t, report)
  await assertRowsReadBack(t, svc, report)
  await assertSlotsOn(t, svc, DEMO_IMAGES['1'], '1')
  const columns = await columnsOf(svc.db, svc.schema, 'people')
  t.notOk(columns.includes('first_name'), 'the expand is undone: no first_name column')
  t.ok(columns.includes('name'), 'v1 keeps its name column')
  t.same(await schemaVersion(svc), ['1'], 'the version table still says 1')
  t.equal(await assertRunState(t, svc, 'rolled_back'), killed.id, 'the same run ended rolled back')
  const nothing = await runHandover(['abort', '--config', svc.configFile])
  t.equal(nothing.code, 1, 'a second abort finds nothing to undo')
  t.match(nothing.stderr, /\[NO_UNFINISHED_RUN\]/, 'and says so')
})

t.test('past the point of no return: abort is refused naming resume, which finishes the run; a live run is never taken over', async (t) => {
  const { svc, load } = await deployUnderLoad(t)
  await installStall(svc, { table: 'handover_run_facts', when: "NEW.type = 'point-of-no-return-crossed'", seconds: 12 })
  const upgrade = spawnUpgrade(svc, DEMO_IMAGES['2'])
  await waitUntil(() => phaseStarted(svc, 'upgrade-standby'), 60_000, 'the standby upgrade to start')
  const began = Date.now()
  const whileAlive = await runHandover(['resume', '--config', svc.configFile])
  t.comment(`resume of the live run answered in ${Date.now() - began} ms`)
  t.equal(whileAlive.code, 1, 'resume of a run whose process lives is refused')
  t.match(whileAlive.stderr, /\[LOCK_HELD\]/, 'by the service lock the live run holds')
  t.equal(upgrade.child.exitCode, null, 'and the live run goes on')

  // Killed right after the crossing: the run is held there (the fact of the crossing sleeps
  // in a trigger), so a slow refused resume above cannot let the run finish first.
  await killWhenStarted(svc, upgrade, 'contract', async () => (await runRow(svc)).ponr === 1 && (await stalled(svc))).finally(() => removeStall(svc))
  const killed = await runRow(svc)
  t.same([killed.state, killed.ponr], ['running', 1], 'the killed run is unfinished, past the point of no return')
  await waitLockFree(svc)

  const abort = await runHandover(['abort', '--config', svc.configFile])
  t.equal(abort.code, 1, 'abort is refused')
  t.match(abort.stderr, /\[PAST_POINT_OF_NO_RETURN\].*v2 has served.*handover resume/, 'saying why, and naming resume')
  t.equal((await runRow(svc)).state, 'running', 'the refused abort changed nothing in the journal')

  const resume = await runHandover(['resume', '--config', svc.configFile, '--rollback'])
  t.equal(resume.code, 0, 'resume (even with --rollback) finishes the run', { output: resume.stdout + resume.stderr })
  // The kill lands once the crossing is journaled; on a loaded host the run may be a phase or two further by then.
  t.match(resume.stdout, /going forward from (contract|upgrade-old|verify|finalize) \(past the point of no return/, 'and says why it went forward')
  const report = await load.stop()
  assertOnlyRetryable(t, report)
  await assertRowsReadBack(t, svc, report)
  await assertSlotsOn(t, svc, DEMO_IMAGES['2'], '2')
  t.same(await schemaVersion(svc), ['2'], 'the version table says 2')
  t.equal(await assertRunState(t, svc, 'succeeded'), killed.id, 'the same run succeeded')
})

t.test('killed in the flip while requests are held: resume --rollback gives them back to v1 and undoes the run', async (t) => {
  const { svc, load } = await deployUnderLoad(t)
  const proxy = new AdminClient(join(svc.dir, 'agent.sock'), 10)
  const upgrade = spawnUpgrade(svc, DEMO_IMAGES['2'])
  await killWhenStarted(svc, upgrade, 'flip', async () => (await proxy.getService(svc.name)).buffered > 0)
  const killed = await runRow(svc)
  await waitLockFree(svc)

  const rollback = await runHandover(['resume', '--config', svc.configFile, '--rollback'])
  t.equal(rollback.code, 0, 'resume --rollback succeeds', { output: rollback.stdout + rollback.stderr })
  t.match(rollback.stdout, /undoing flip, expand, upgrade-standby, disable-standby, backup, preflight, in this order \(--rollback was given\)/, 'it says what it undoes and why')
  const writtenAfter = load.progress().written.length
  await waitUntil(() => load.progress().written.length >= writtenAfter + 50, 20_000, 'rows written after the rollback')
  const report = await load.stop()
  t.notOk(report.versions['2'], 'no request was served by v2')
  assertOnlyRetryable(t, report)
  await assertRowsReadBack(t, svc, report)
  await assertSlotsOn(t, svc, DEMO_IMAGES['1'], '1')
  t.notOk((await columnsOf(svc.db, svc.schema, 'people')).includes('first_name'), 'the expand is undone')
  const route = await proxy.getService(svc.name)
  t.same([route.slots.blue.state, route.slots.green.state, route.buffered], ['active', 'active', 0], 'both slots serve, nothing is held')
  t.equal(await assertRunState(t, svc, 'rolled_back'), killed.id, 'the same run ended rolled back')
})
