/**
 * The --json outputs and `handover history`, from the real CLI against a real service:
 * deploy v1, plan v2, upgrade, then read it all back. Shapes are checked field by field
 * against the types in src/cli/json-output.ts.
 */
import t from 'tap'
import { hostname, userInfo } from 'node:os'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import type { BackupListJson, HistoryJson, PlanJson, StatusJson } from '../../src/cli/json-output.js'
import { EXIT } from '../../src/cli/exit-codes.js'
import { Journal } from '../../src/db/journal/journal.js'
import { createTestService, JOURNAL_SCHEMA, removeLeftovers } from '../../scripts/lib/throwaway-service.js'

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('obs-cli')
})

async function json<T>(args: string[]): Promise<T> {
  const result = await runHandover(args)
  if (result.code !== 0) throw new Error(`handover ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}

t.test('status, plan, history and backup list print their documented JSON; history lists runs with who ran them', async (t) => {
  const svc = await createTestService('obs-cli')
  t.teardown(async () => {
    await svc.db.query(`DELETE FROM ${JOURNAL_SCHEMA}.handover_steps WHERE run_id IN (SELECT id FROM ${JOURNAL_SCHEMA}.handover_runs WHERE service = ?)`, [svc.name])
    await svc.db.query(`DELETE FROM ${JOURNAL_SCHEMA}.handover_runs WHERE service = ?`, [svc.name])
    await svc.cleanup()
  })
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  t.equal(deploy.code, 0, 'deploy succeeds', { output: deploy.stdout + deploy.stderr })

  const empty = await json<HistoryJson>(['history', '--config', svc.configFile, '--json'])
  t.same(empty, { service: svc.name, runs: [] }, 'no runs before the first upgrade')

  const plan = await json<PlanJson>(['plan', '--config', svc.configFile, '--version', '2', '--json'])
  t.match(plan, { schema: svc.schema, current: '1', target: '2', allowed: true, refusals: [] }, 'plan: versions and verdict')
  t.same(plan.scripts.map((s) => [s.name, s.from, s.to, s.replaces]), [['v2.sql', '1', '2', []]], 'plan: one script')
  const drop = plan.scripts[0]!.statements.find((s) => s.kind === 'drop-column')
  t.match(drop, { part: 'contract', sql: /DROP COLUMN name/, keptAs: '_handover_name', algorithm: 'INSTANT' }, 'plan: the contract drop, its algorithm and soft name')
  t.ok(plan.rehearsal.statements > 0 && plan.rehearsal.undoStatements > 0, 'plan: the rehearsal counts')

  const upgrade = await runHandover(['upgrade', '--config', svc.configFile, '--image', DEMO_IMAGES['2']])
  t.equal(upgrade.code, EXIT.OK, 'upgrade succeeds', { output: upgrade.stdout + upgrade.stderr })
  t.notMatch(upgrade.stdout, /\x1b\[/, 'not a terminal: no redraw escapes in the output')

  const history = await json<HistoryJson>(['history', '--config', svc.configFile, '--json'])
  t.equal(history.runs.length, 1, 'history: the run')
  const run = history.runs[0]!
  t.match(run, { fromVersion: '1', toVersion: '2', fromImage: DEMO_IMAGES['1'], toImage: DEMO_IMAGES['2'], result: 'succeeded', pointOfNoReturnPassed: true, error: null })
  t.same([run.operator, run.host], [userInfo().username, hostname()], 'history: who ran it (user, host)')
  t.match(run.startedAt, ISO, 'history: start in ISO 8601 UTC')
  t.match(run.finishedAt, ISO)
  t.ok(run.durationSeconds! > 0.5 && run.durationSeconds! < 300, `history: the duration (${run.durationSeconds}s)`)
  t.ok(Math.abs(Date.parse(run.startedAt) - Date.now()) < 300_000, 'history: the start is UTC, minutes from now')

  // Two more runs written by the journal itself: ordering, --limit and an error.
  const journal = new Journal(svc.db, JOURNAL_SCHEMA)
  const older = { id: `${svc.name}-older`.padEnd(36, '0').slice(0, 36), service: svc.name, fromVersion: '0.9', toVersion: '1', fromImage: 'a:0.9', toImage: 'a:1', standbySlot: 'green' }
  await journal.startRun(older, 'alice', 'ops-1')
  await svc.db.query(`UPDATE ${JOURNAL_SCHEMA}.handover_runs SET started_at = NOW(3) - INTERVAL 1 DAY WHERE id = ?`, [older.id])
  await journal.finishRun(older.id, 'rolled_back', { code: 'UNHEALTHY', message: 'green never became healthy' })
  const limited = await json<HistoryJson>(['history', '--config', svc.configFile, '--json', '--limit', '1'])
  t.same(limited.runs.map((r) => r.id), [run.id], '--limit 1: the newest only')
  const both = await json<HistoryJson>(['history', '--config', svc.configFile, '--json'])
  t.same(both.runs.map((r) => r.id), [run.id, older.id], 'newest first')
  t.match(both.runs[1], { result: 'rolled_back', operator: 'alice', host: 'ops-1', error: { code: 'UNHEALTHY', message: 'green never became healthy' } })
  const text = await runHandover(['history', '--config', svc.configFile])
  t.match(text.stdout, /1 → 2 +\d+\.\ds {2}succeeded +\S+@\S+ +[0-9a-f-]{36}/, 'the text view: one line per run')
  t.match(text.stdout, /0\.9 → 1 .* rolled_back +alice@ops-1/)
  t.match(text.stdout, /\[UNHEALTHY\] green never became healthy/)

  const status = await json<StatusJson>(['status', '--config', svc.configFile, '--json'])
  t.match(status, { service: svc.name, proxy: { buffered: 0, error: null }, schema: { name: svc.schema, version: '2' } })
  t.same(
    status.slots.map((s) => [s.slot, s.proxy?.state, s.container?.image, s.container?.running, s.answersVersion]),
    [['blue', 'active', DEMO_IMAGES['2'], true, '2'], ['green', 'active', DEMO_IMAGES['2'], true, '2']],
    'status: both slots active on v2 and answering 2',
  )
  t.equal(status.lastRun?.id, run.id, 'status: the last run')
  t.equal(status.lastRun?.steps.length, 10, 'status: its ten phases')
  t.equal(status.lastRun?.processGone, false, 'status: a finished run has no process to miss')
  t.ok(status.lastRun?.steps.every((s) => s.status === 'completed' && s.durationSeconds !== null && ISO.test(s.startedAt)), 'each completed, with duration and UTC start')

  const backups = await json<BackupListJson>(['backup', 'list', '--config', svc.configFile, '--json'])
  t.equal(backups.schema, svc.schema)
  t.equal(backups.backups.length, 1, 'backup list: the dump taken before the upgrade')
  t.match(backups.backups[0], { file: new RegExp(`${svc.schema}-.*\\.sql$`), modifiedAt: ISO })
  t.ok(backups.backups[0]!.bytes > 100, 'with its size')
})
