/**
 * A contract that fails halfway (after it dropped `name`) while clients write and read:
 * the run undoes every phase, the held requests go back to v1, and nothing is lost. The
 * failure depends on the rows (a duplicate key), so the rehearsal on an empty copy of the
 * schema cannot see it coming; a statement that fails on any data is caught by the rehearsal
 * before anything changes.
 */
import t from 'tap'
import { join } from 'node:path'
import Docker from 'dockerode'
import type { RowDataPacket } from 'mysql2/promise'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { startLoad, verifyRows } from '../../scripts/lib/load-generator.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { createTestService, demoMigrationsWith, JOURNAL_SCHEMA, removeLeftovers } from '../../scripts/lib/throwaway-service.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'

const docker = new Docker()

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-undo')
})

t.test('a failed contract rolls back to v1 under load with no request failed and no row lost', async (t) => {
  const svc = await createTestService('it-undo', {
    // The contract fails after it dropped the old column, the worst moment to fail.
    migrationsDir: demoMigrationsWith(t.testdir({}), (v2) =>
      v2.replace('ALTER TABLE people DROP COLUMN name;\n', 'ALTER TABLE people DROP COLUMN name;\nUPDATE people SET id = 1;\n'),
    ),
  })
  t.teardown(svc.cleanup)
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  t.equal(deploy.code, 0, 'deployed v1', { output: deploy.stdout + deploy.stderr })

  const load = startLoad({ baseUrl: svc.proxyUrl, concurrency: 12, maxDurationMs: 120_000, maxRequests: 300_000, postRatio: 0.5 })
  await waitUntil(() => load.progress().written.length >= 100, 20_000, 'rows written before the upgrade')
  const upgrade = await runHandover(['upgrade', '--config', svc.configFile, '--image', DEMO_IMAGES['2']])
  const writtenDuring = load.progress().written.length
  await waitUntil(() => load.progress().written.length >= writtenDuring + 100, 20_000, 'rows written after the rollback')
  const report = await load.stop()

  t.equal(upgrade.code, 1, 'the upgrade exits 1', { output: upgrade.stdout + upgrade.stderr })
  t.match(upgrade.stderr, /contract failed: \[STATEMENT_FAILED\] v2\.sql:\d+ \(contract\)/, 'the error names the script, line and part')
  t.match(upgrade.stderr, /rolled back to handover-demo:1 \(version 1\)/, 'and says where it rolled back to')
  t.equal(report.failed, 0, 'no request failed', { failures: report.failures })
  t.match(upgrade.stdout, /kept as _handover_name/, 'the contract had renamed name before it failed')
  t.same(Object.keys(report.versions), ['1'], 'only v1 ever answered')

  const check = await verifyRows(svc.proxyUrl, report.written)
  t.same([check.missing, check.wrong, check.errors], [[], [], []], `all ${report.written.length} rows read back through v1`)
  const [columns] = await svc.db.query<RowDataPacket[]>(
    'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position',
    [svc.schema, 'people'],
  )
  t.same(columns.map((row) => row.c), ['id', 'name', 'created_at'], 'the v1 schema is back')
  const [version] = await svc.db.query<RowDataPacket[]>(`SELECT version FROM \`${svc.schema}\`.app_version`)
  t.same(version.map((row) => row.version), ['1'], 'the version table still says 1')

  for (const slot of ['blue', 'green'] as const) {
    const info = await docker.getContainer(`handover-${svc.name}-${slot}`).inspect()
    t.equal(info.Config.Image, DEMO_IMAGES['1'], `${slot} runs v1 again`)
  }
  const route = await new AdminClient(join(svc.dir, 'agent.sock')).getService(svc.name)
  t.same([route.slots.blue.state, route.slots.green.state, route.buffered], ['active', 'active', 0], 'both slots serve again, nothing held')

  const [steps] = await svc.db.query<RowDataPacket[]>(
    `SELECT s.phase, s.action, s.status FROM ${JOURNAL_SCHEMA}.handover_steps s JOIN ${JOURNAL_SCHEMA}.handover_runs r ON r.id = s.run_id
     WHERE r.service = ? AND r.state = 'rolled_back' ORDER BY s.id`,
    [svc.name],
  )
  t.same(
    steps.filter((row) => row.action === 'undo').map((row) => `${row.phase} ${row.status}`),
    ['contract completed', 'flip completed', 'expand completed', 'upgrade-standby completed', 'disable-standby completed'],
    'the journal shows each undo, newest phase first',
  )
  t.ok(steps.some((row) => row.phase === 'contract' && row.action === 'forward' && row.status === 'failed'), 'and the failed contract')
  const metrics = await (await fetch(svc.agent.metricsUrl)).text()
  t.match(metrics, new RegExp(`handover_upgrades_total\\{[^}]*service="${svc.name}"[^}]*result="rolled_back"[^}]*\\} 1`), 'metrics count the rollback')
})

/** The demo's v2 written the legacy way, without markers, with contract changes to rows and definitions before one that fails on the data. */
const UNMARKED_V2 = `ALTER TABLE people ADD COLUMN first_name VARCHAR(100) NULL, ADD COLUMN last_name VARCHAR(100) NULL;
UPDATE people SET first_name = SUBSTRING_INDEX(name, ' ', 1), last_name = IF(LOCATE(' ', name) > 0, SUBSTRING(name, LOCATE(' ', name) + 1), '') WHERE first_name IS NULL;
UPDATE people SET name = UPPER(name);
ALTER TABLE people ADD UNIQUE KEY id_name (id, name);
ALTER TABLE people DROP COLUMN name;
UPDATE people SET id = 1;
`

t.test('an unmarked contract that changed rows and definitions before it failed is undone by handover alone: every row and definition as before', async (t) => {
  const svc = await createTestService('it-undo', { migrationsDir: demoMigrationsWith(t.testdir({}), () => UNMARKED_V2) })
  t.teardown(svc.cleanup)
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  t.equal(deploy.code, 0, 'deployed v1', { output: deploy.stdout + deploy.stderr })
  const plan = await runHandover(['plan', '--config', svc.configFile, '--version', '2'])
  t.match(plan.stdout, /contract +line 3 +UPDATE people SET name = UPPER\(name\).*\[undo: the rows before it/, 'plan: the data change is undone from a copy of its rows')
  t.match(plan.stdout, /contract +line 4 +ALTER TABLE people ADD UNIQUE KEY.*\[undo: the table definition before it, put back\]/, 'plan: the key, by its definition')

  const load = startLoad({ baseUrl: svc.proxyUrl, concurrency: 8, maxDurationMs: 120_000, maxRequests: 300_000, postRatio: 0.5, updateRatio: 0.2 })
  await waitUntil(() => load.progress().written.length >= 100, 20_000, 'rows written before the upgrade')
  const upgrade = await runHandover(['upgrade', '--config', svc.configFile, '--image', DEMO_IMAGES['2']])
  const writtenDuring = load.progress().written.length
  await waitUntil(() => load.progress().written.length >= writtenDuring + 100, 20_000, 'rows written after the rollback')
  const report = await load.stop()

  t.equal(upgrade.code, 1, 'the upgrade exits 1', { output: upgrade.stdout + upgrade.stderr })
  t.match(upgrade.stderr, /contract failed: \[STATEMENT_FAILED\] v2\.sql:6 \(contract\)/, 'the statement that failed is named')
  t.match(upgrade.stderr, /rolled back to handover-demo:1 \(version 1\)/)
  t.equal(report.failed, 0, 'no request failed', { failures: report.failures })
  t.same(Object.keys(report.versions), ['1'], 'only v1 ever answered')
  const check = await verifyRows(svc.proxyUrl, report.written)
  t.same([check.missing, check.wrong, check.errors], [[], [], []], `all ${report.written.length} rows read back through v1 as written, none in upper case`)
  const [created] = await svc.db.query<RowDataPacket[]>(`SHOW CREATE TABLE \`${svc.schema}\`.people`)
  t.notMatch(String(created[0]!['Create Table']), /id_name|first_name|_handover_/, 'no key, column or soft-dropped column of the run is left')
  t.match(String(created[0]!['Create Table']), /`name` varchar\(200\) NOT NULL/, 'name is back as it was')
  const [tables] = await svc.db.query<RowDataPacket[]>(
    "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE (TABLE_SCHEMA = ? AND TABLE_NAME LIKE '\\_handover%') OR (TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'handover\\_rows\\_%')",
    [svc.schema, JOURNAL_SCHEMA],
  )
  t.equal(Number(tables[0]!.n), 0, 'no copy of rows is left behind')
})

t.test('a statement that cannot run is caught by the rehearsal before anything changes', async (t) => {
  const svc = await createTestService('it-undo', {
    migrationsDir: demoMigrationsWith(t.testdir({}), (v2) => v2.replace('ALTER TABLE people DROP COLUMN name;\n', 'ALTER TABLE people DROP COLUMN name;\nUPDATE table_that_does_not_exist SET x = 1;\n')),
  })
  t.teardown(svc.cleanup)
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  t.equal(deploy.code, 0, 'deployed v1', { output: deploy.stdout + deploy.stderr })
  const before = await Promise.all((['blue', 'green'] as const).map((slot) => docker.getContainer(`handover-${svc.name}-${slot}`).inspect()))

  const upgrade = await runHandover(['upgrade', '--config', svc.configFile, '--image', DEMO_IMAGES['2']])
  t.equal(upgrade.code, 1, 'the upgrade exits 1')
  t.match(upgrade.stderr, /preflight failed: \[REHEARSAL_FAILED\] rehearsal on a copy of the schema: v2\.sql:\d+ \(contract\) fails: .*table_that_does_not_exist/)
  const after = await Promise.all((['blue', 'green'] as const).map((slot) => docker.getContainer(`handover-${svc.name}-${slot}`).inspect()))
  t.same(after.map((c) => [c.Id, c.State.StartedAt]), before.map((c) => [c.Id, c.State.StartedAt]), 'neither container was touched')
  const [columns] = await svc.db.query<RowDataPacket[]>('SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position', [svc.schema, 'people'])
  t.same(columns.map((row) => row.c), ['id', 'name', 'created_at'], 'the schema is untouched')
  const [steps] = await svc.db.query<RowDataPacket[]>(
    `SELECT s.phase, s.action, s.status FROM ${JOURNAL_SCHEMA}.handover_steps s JOIN ${JOURNAL_SCHEMA}.handover_runs r ON r.id = s.run_id WHERE r.service = ? ORDER BY s.id`,
    [svc.name],
  )
  t.same(steps.map((row) => `${row.action} ${row.phase} ${row.status}`), ['forward preflight failed'], 'only the preflight ran')
})
