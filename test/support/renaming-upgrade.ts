/**
 * The old version's writes between the expand and the contract reach the new columns: a
 * demo service with 30,000 people from before the upgrade, clients that rename old and new
 * people, delete some, create more and read them back through the proxy during a real
 * strict upgrade. Each case is its own test file (test/integration/upgrade-keeps-updates-*),
 * so each gets the runner's whole time bound.
 */
import type { Test } from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { DEMO_IMAGES } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { mayHold, startLoad, verifyRows, type WrittenRow } from '../../scripts/lib/load-generator.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import { killWhenStarted, spawnUpgrade, waitLockFree } from '../../scripts/lib/killed-upgrade.js'
import { createTestService, JOURNAL_SCHEMA, type TestService } from '../../scripts/lib/throwaway-service.js'

const SEEDED = 30_000
export const UNMARKED_V2 = `-- v2 as an unmarked script: handover splits it and captures the backfill.
ALTER TABLE people ADD COLUMN first_name VARCHAR(100) NULL, ADD COLUMN last_name VARCHAR(100) NULL;
UPDATE people
   SET first_name = SUBSTRING_INDEX(name, ' ', 1),
       last_name = IF(LOCATE(' ', name) > 0, SUBSTRING(name, LOCATE(' ', name) + 1), '')
 WHERE first_name IS NULL;
ALTER TABLE people DROP COLUMN name;
`

async function seedPeople(svc: TestService): Promise<WrittenRow[]> {
  await svc.db.query(`INSERT INTO \`${svc.schema}\`.people (id, name) SELECT seq, CONCAT('Seed', seq, ' Old Row', seq) FROM \`${svc.schema}\`.seq_1_to_${SEEDED}`)
  return Array.from({ length: SEEDED }, (_, i) => ({ id: i + 1, name: `Seed${i + 1} Old Row${i + 1}` }))
}

/** Kill the upgrade CLI once its backfill has committed a few chunks, then take the run over with `handover resume`. */
async function killedMidBackfillThenResumed(svc: TestService): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const upgrade = spawnUpgrade(svc, DEMO_IMAGES['2'])
  await killWhenStarted(svc, upgrade, 'expand', async () => {
    const [rows] = await svc.db.query<RowDataPacket[]>(`SELECT COALESCE(MAX(chunks), 0) AS n FROM ${JOURNAL_SCHEMA}.handover_backfill_progress WHERE service = ?`, [svc.name])
    return Number(rows[0]!.n) >= 3
  })
  await waitLockFree(svc)
  return runHandover(['resume', '--config', svc.configFile])
}

export async function upgradeWhileRenaming(t: Test, prefix: string, migrationsDir?: string, interrupted = false) {
  const svc = await createTestService(prefix, { takeover: false, ...(migrationsDir ? { migrationsDir } : {}) })
  t.teardown(svc.cleanup)
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  t.equal(deploy.code, 0, 'deploy succeeds', { output: deploy.stdout + deploy.stderr })
  const knownRows = await seedPeople(svc)
  const load = startLoad({ baseUrl: svc.proxyUrl, concurrency: 12, maxDurationMs: 150_000, maxRequests: 400_000, postRatio: 0.15, updateRatio: 0.45, deleteRatio: 0.05, knownRows })
  await waitUntil(() => load.progress().updates >= 200, 30_000, 'renames before the upgrade').catch((error: unknown) => {
    const progress = load.progress()
    throw new Error(`${String(error)}: ${progress.sent} sent, ${progress.failed} failed, ${JSON.stringify(progress.failures.slice(0, 3))}`)
  })
  const upgrade = interrupted ? await killedMidBackfillThenResumed(svc) : await runHandover(['upgrade', '--config', svc.configFile, '--image', DEMO_IMAGES['2']])
  const updatesDuring = load.progress().updates
  await waitUntil(() => load.progress().updates >= updatesDuring + 200, 20_000, 'renames after the upgrade')
  const report = await load.stop()

  t.equal(upgrade.code, 0, 'upgrade succeeds', { output: upgrade.stdout + upgrade.stderr })
  t.match(upgrade.stdout, /backfill \(writes captured by triggers, \d+ rows in \d+ chunks/, 'the backfill ran in chunks with its writes captured')
  if (interrupted) t.match(upgrade.stdout, /resumed after \d+ chunks/, 'the resumed run went on from the last committed chunk')
  t.match(upgrade.stdout, /catch-up not needed: the capture kept the backfill in step/, 'the contract did not scan the table again')
  t.equal(report.failed, 0, 'no request failed', { failures: report.failures })
  t.ok(report.versions['1']! > 0 && report.versions['2']! > 0, 'clients were served by v1, then by v2')
  t.ok(report.updates > 400 && report.deleted.length > 20, `old and new people were renamed (${report.updates}) and deleted (${report.deleted.length})`)

  const check = await verifyRows(svc.proxyUrl, report.written, { deleted: report.deleted })
  t.equal(check.checked, report.written.length + report.deleted.length, 'every person was checked')
  t.same([check.missing, check.undeleted, check.wrong.slice(0, 5), check.errors], [[], [], [], []], 'every person reads back through v2 with the last name acknowledged; deleted ones stay deleted')
  const [rows] = await svc.db.query<RowDataPacket[]>(`SELECT id, TRIM(CONCAT(first_name, ' ', last_name)) AS name FROM \`${svc.schema}\`.people`)
  const stored = new Map(rows.map((row) => [Number(row.id), String(row.name)]))
  const stale = report.written.filter((row) => !mayHold(row, stored.get(row.id)))
  t.same(stale.slice(0, 5), [], `every acknowledged rename is in first_name/last_name (${stale.length} of ${report.written.length} stale)`)
  t.equal(rows.length, report.written.length, 'no row more, no row less')
  const [triggers] = await svc.db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?', [svc.schema])
  t.equal(Number(triggers[0]!.n), 0, 'no capture trigger is left')
}

