/**
 * The old version's writes between the start of the expand and the contract reach what the
 * backfill computed: real MariaDB, a table of old rows, and writers that update old and new
 * rows, insert, delete and hold long transactions while the expand runs. What the writers
 * were told was saved must be in the new column after the contract, row for row.
 */
import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import { connect } from '../../../src/db/connection.js'
import type { CaptureStep, StatementApplied } from '../../../src/db/migrations/migration-executor.js'
import { readScripts } from '../../../src/db/migrations/scripts/migration-script.js'
import { ensureMigrationTables, serviceExecutor } from '../../../src/db/migrations/service-executor.js'
import { waitUntil } from '../../../scripts/lib/wait-until.js'
import { spawnApplyExpand } from '../../support/apply-expand-process.js'
import { startOrderWriter, type OrderState, type WriterReport } from '../../../scripts/lib/order-writer.js'
import { assertRowsMatch, cents, CUSTOMERS, seedOrders, toCents } from '../../support/orders-fixture.js'
import { createTestDatabase, dbPassword, type TestDatabase } from '../../support/test-database.js'

const TUNING = { chunkRows: 300, chunkTargetMs: 15, maxThreadsRunning: 64, pauseRatio: 1 }

const UNMARKED_AMOUNT = `ALTER TABLE orders ADD COLUMN amount_cents BIGINT NULL;
UPDATE orders SET amount_cents = amount * 100 WHERE amount_cents IS NULL;
ALTER TABLE orders DROP COLUMN amount;
`

interface Upgrade {
  applied: StatementApplied[]
  captures: CaptureStep[]
  writer: WriterReport
}

/** Expand while the writers run, a little more writing, the writers stop (the drain), then the contract. */
async function upgradeUnderWrites(t: Test, test: TestDatabase, scripts: Record<string, string>, seeded: Map<number, OrderState>, customerChangeRatio = 0): Promise<Upgrade> {
  const dir = t.testdir(scripts)
  const connection = await connect(test.config)
  t.teardown(() => connection.end())
  await ensureMigrationTables(connection, test.journalSchema)
  const executor = serviceExecutor(connection, test.config, 'capture', 'capture-run', TUNING)
  const chain = readScripts(dir)
  const applied: StatementApplied[] = []
  const captures: CaptureStep[] = []
  const writer = await startOrderWriter({ schema: test.schema, password: dbPassword(), seeded, customers: CUSTOMERS, customerChangeRatio, maxDurationMs: 120_000 })
  await waitUntil(() => writer.written() >= 200, 20_000, 'writes before the expand')
  writer.markPhase('expand')
  await executor.applyPart(chain, 'expand', (event) => applied.push(event), undefined, (step) => captures.push(step))
  writer.markPhase('after-expand')
  const afterExpand = writer.written()
  await waitUntil(() => writer.written() >= afterExpand + 300, 20_000, 'writes between expand and drain')
  const report = await writer.stop()
  await executor.applyPart(chain, 'contract', (event) => applied.push(event), undefined, (step) => captures.push(step))
  return { applied, captures, writer: report }
}

async function captureObjects(test: TestDatabase): Promise<string[]> {
  const [rows] = await test.db.query<RowDataPacket[]>(
    `SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME LIKE '\\_handover%'
     UNION ALL SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE '\\_handover\\_chg%'`,
    [test.schema, test.schema],
  )
  return rows.map((row) => String(row.name))
}

function assertWritersWereBusy(t: Test, writer: WriterReport) {
  t.same(writer.errors, [], "no write of the old version failed")
  t.ok((writer.writesByPhase.expand ?? 0) > 50, `the writers wrote during the expand (${writer.writesByPhase.expand ?? 0})`)
  t.ok((writer.writesByPhase['after-expand'] ?? 0) >= 300, 'and between the expand and the drain')
  t.ok(writer.updates > 0 && writer.deletes > 0 && writer.inserts > 0 && writer.longTransactions > 0, 'updates, deletes, inserts and long transactions all happened')
}

t.test('an unmarked script: a per-row backfill is kept in step by triggers; the contract catch-up is not needed', async (t) => {
  const test = await createTestDatabase('capture_row')
  t.teardown(test.cleanup)
  const seeded = await seedOrders(test)
  const { applied, captures, writer } = await upgradeUnderWrites(t, test, { 'v2.sql': UNMARKED_AMOUNT }, seeded)
  assertWritersWereBusy(t, writer)
  await assertRowsMatch(t, test, writer, 'amount_cents', cents)
  const backfill = applied.find((event) => event.backfill)
  t.equal(backfill?.backfill?.capture, 'row-trigger', 'the backfill was captured by triggers')
  t.ok((backfill?.backfill?.chunks?.chunks ?? 0) > 10, `it ran in chunks (${backfill?.backfill?.chunks?.chunks})`)
  t.ok(applied.some((event) => event.part === 'contract' && event.replacedByCapture), 'the contract catch-up was replaced by the capture')
  t.ok(captures.some((step) => step.part === 'contract' && step.removed.filter((name) => name.startsWith('_handover_bf_')).length === 2), 'the contract removed both triggers')
  t.same(await captureObjects(test), [], 'no capture trigger or change table is left')
})

t.test('a backfill that reads another table: written keys are recorded and replayed for exactly those rows', async (t) => {
  const test = await createTestDatabase('capture_keys')
  t.teardown(test.cleanup)
  const seeded = await seedOrders(test)
  const script = `ALTER TABLE orders ADD COLUMN customer_name VARCHAR(40) NULL;
UPDATE orders SET customer_name = (SELECT c.name FROM customers c WHERE c.id = orders.customer_id) WHERE customer_name IS NULL;
`
  const { applied, captures, writer } = await upgradeUnderWrites(t, test, { 'v2.sql': script }, seeded, 0.5)
  assertWritersWereBusy(t, writer)
  await assertRowsMatch(t, test, writer, 'customer_name', (state) => `customer-${state.customerId}`)
  const backfill = applied.find((event) => event.backfill)
  t.equal(backfill?.backfill?.capture, 'changed-keys', 'the backfill was captured by its written keys')
  const replayed = captures.reduce((sum, step) => sum + step.replayed, 0)
  t.ok(replayed > 0, `rows written after their chunk were replayed (${replayed})`)
  t.same(await captureObjects(test), [], 'no capture trigger or change table is left')
})

t.test("a marked script whose contract repeats the backfill; the table's own triggers keep working", async (t) => {
  const test = await createTestDatabase('capture_marked')
  t.teardown(test.cleanup)
  const seeded = await seedOrders(test)
  // The app's own triggers: amounts are stored rounded to 10 cents, and every update is audited.
  await test.db.query(`CREATE TABLE audit (order_id BIGINT NOT NULL, by_backfill BOOLEAN NOT NULL) ENGINE=InnoDB;
    CREATE TRIGGER app_round_insert BEFORE INSERT ON orders FOR EACH ROW SET NEW.amount = ROUND(NEW.amount, 1);
    CREATE TRIGGER app_round BEFORE UPDATE ON orders FOR EACH ROW SET NEW.amount = ROUND(NEW.amount, 1);
    CREATE TRIGGER app_audit AFTER UPDATE ON orders FOR EACH ROW INSERT INTO audit VALUES (NEW.id, @handover_backfill IS NOT NULL)`)
  const script = `-- handover:expand
ALTER TABLE orders ADD COLUMN amount_cents BIGINT NULL;
UPDATE orders
   SET amount_cents = amount * 100
 WHERE amount_cents IS NULL;
-- handover:expand-undo
ALTER TABLE orders DROP COLUMN IF EXISTS amount_cents;
-- handover:contract
UPDATE orders SET amount_cents = amount * 100 WHERE amount_cents IS NULL;
ALTER TABLE orders MODIFY amount_cents BIGINT NOT NULL;
-- handover:contract-undo
ALTER TABLE orders MODIFY amount_cents BIGINT NULL;
`
  const { applied, writer } = await upgradeUnderWrites(t, test, { 'v2.sql': script }, seeded)
  assertWritersWereBusy(t, writer)
  // What handover's trigger computes from is the amount after the app's trigger rounded it.
  await assertRowsMatch(t, test, writer, 'amount_cents', (state) => String(Math.floor((toCents(state.amount) + 5) / 10) * 10))
  t.ok(applied.some((event) => event.part === 'contract' && event.replacedByCapture), "the contract's repeated backfill was recognised and replaced")
  // The backfill's own UPDATEs fire the app's trigger too, as the script's UPDATE would; they are told apart here.
  const [audited] = await test.db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${test.schema}\`.audit WHERE NOT by_backfill`)
  t.equal(Number(audited[0]!.n), writer.updates + 2 * writer.longTransactions, "the app's audit trigger saw every update of the old version")
  const [own] = await test.db.query<RowDataPacket[]>('SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY name', [test.schema])
  t.same(own.map((row) => row.name), ['app_audit', 'app_round', 'app_round_insert'], "the app's triggers are still there, handover's are gone")
})

t.test('a run killed in the middle of a backfill resumes from its last chunk, with nothing lost', async (t) => {
  const test = await createTestDatabase('capture_resume')
  t.teardown(test.cleanup)
  const seeded = await seedOrders(test)
  const dir = t.testdir({ 'v2.sql': UNMARKED_AMOUNT })
  writeFileSync(join(dir, 'README'), 'scripts of the resume test')
  const writer = await startOrderWriter({ schema: test.schema, password: dbPassword(), seeded, customers: CUSTOMERS, maxDurationMs: 120_000 })
  t.teardown(async () => void (await writer.stop()))
  const first = spawnApplyExpand(test, dir, { HANDOVER_FIXTURE_CHUNK_ROWS: '200', HANDOVER_FIXTURE_PAUSE_RATIO: '3' })
  await waitUntil(async () => (await chunksDone(test)) >= 5, 60_000, 'five chunks committed')
  first.child.kill('SIGKILL')
  await first.exited
  const chunksBeforeKill = await chunksDone(test)
  t.ok(chunksBeforeKill >= 5, `killed after ${chunksBeforeKill} chunks`)
  const [nulls] = await test.db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${test.schema}\`.orders WHERE amount_cents IS NULL`)
  t.ok(Number(nulls[0]!.n) > 0, 'the backfill was cut off part-way')

  const second = spawnApplyExpand(test, dir, { HANDOVER_FIXTURE_CHUNK_ROWS: '2000', HANDOVER_FIXTURE_PAUSE_RATIO: '0' })
  t.equal(await second.exited, 0, 'the second run finishes', { output: second.output() })
  t.match(second.output(), new RegExp(`resumed after ${chunksBeforeKill} chunks`), 'it went on from the last committed chunk')
  const report = await writer.stop()
  t.same(report.errors, [], 'no write of the old version failed')
  const connection = await connect(test.config)
  t.teardown(() => connection.end())
  await serviceExecutor(connection, test.config, 'fixture', 'fixture-run').applyPart(readScripts(dir), 'contract')
  await assertRowsMatch(t, test, report, 'amount_cents', cents)
})

async function chunksDone(test: TestDatabase): Promise<number> {
  const [rows] = await test.db.query<RowDataPacket[]>(`SELECT COALESCE(MAX(chunks), 0) AS n FROM \`${test.journalSchema}\`.handover_backfill_progress`).catch(() => [[{ n: 0 }]] as never)
  return Number(rows[0]?.n ?? 0)
}

async function expandOnly(t: Test, test: TestDatabase, script: string) {
  const chain = readScripts(t.testdir({ 'v2.sql': script }))
  const connection = await connect(test.config)
  t.teardown(() => connection.end())
  await ensureMigrationTables(connection, test.journalSchema)
  const executor = serviceExecutor(connection, test.config, 'edge', 'edge-run')
  const applied: StatementApplied[] = []
  await executor.applyPart(chain, 'expand', (event) => applied.push(event))
  return { chain, executor, applied }
}

t.test('a backfill that fails on a row the old version wrote: the write succeeds, the contract refuses', async (t) => {
  const test = await createTestDatabase('capture_fail')
  t.teardown(test.cleanup)
  await seedOrders(test)
  const { chain, executor, applied } = await expandOnly(t, test, `ALTER TABLE orders ADD COLUMN small_amount DECIMAL(5,2) NULL;
UPDATE orders SET small_amount = amount WHERE small_amount IS NULL;
`)
  t.equal(applied.find((event) => event.backfill)?.backfill?.capture, 'row-trigger')
  const [inserted] = await test.db.query<ResultSetHeader>(`INSERT INTO \`${test.schema}\`.orders (amount, customer_id) VALUES (42.5, 1), (12345.5, 2)`)
  t.equal(inserted.affectedRows, 2, "the old version's insert succeeds although 12345.50 does not fit small_amount")
  await t.rejects(executor.applyPart(chain, 'contract'), { code: 'CAPTURE_FAILED', message: /Out of range value for column 'small_amount'.*\(1 rows\)/ }, 'the contract refuses: the backfill would fail on that row')
})

t.test('a backfill that reads the AUTO_INCREMENT id is captured by keys: a BEFORE INSERT trigger does not know the id yet', async (t) => {
  const test = await createTestDatabase('capture_autoinc')
  t.teardown(test.cleanup)
  await test.db.query(`CREATE TABLE notes (id BIGINT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(20) NOT NULL) ENGINE=InnoDB;
    INSERT INTO notes (body) SELECT CONCAT('b', seq) FROM seq_1_to_1000`)
  const { chain, executor, applied } = await expandOnly(t, test, `ALTER TABLE notes ADD COLUMN code VARCHAR(20) NULL;
UPDATE notes SET code = CONCAT('n', id) WHERE code IS NULL;
`)
  t.equal(applied.find((event) => event.backfill)?.backfill?.capture, 'changed-keys')
  await test.db.query(`INSERT INTO \`${test.schema}\`.notes (body) VALUES ('new1'), ('new2')`)
  await test.db.query(`UPDATE \`${test.schema}\`.notes SET body = 'changed' WHERE id = 7`)
  await executor.applyPart(chain, 'contract')
  const [codes] = await test.db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n, SUM(code = CONCAT('n', id)) AS right_codes FROM \`${test.schema}\`.notes`)
  const [wrong] = await test.db.query<RowDataPacket[]>(`SELECT id, code FROM \`${test.schema}\`.notes WHERE code IS NULL OR code <> CONCAT('n', id) LIMIT 5`)
  t.same([Number(codes[0]!.n), Number(codes[0]!.right_codes)], [1002, 1002], 'every row has its code from its real id, inserted rows included', { wrong })
})
