/**
 * A contract ALTER that copies its table runs as an online rebuild: the shadow is built and
 * kept in step during the expand while writers update, insert and delete, and the contract
 * only swaps it in. Real MariaDB; the table has triggers of its own, which must follow it.
 */
import t from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { connect } from '../../../src/db/connection.js'
import type { CaptureStep, StatementApplied } from '../../../src/db/migrations/migration-executor.js'
import { readScripts } from '../../../src/db/migrations/scripts/migration-script.js'
import { rehearse } from '../../../src/db/rehearsal/rehearsal.js'
import { ensureMigrationTables, serviceExecutor } from '../../../src/db/migrations/service-executor.js'
import { startOrderWriter } from '../../../scripts/lib/order-writer.js'
import { waitUntil } from '../../../scripts/lib/wait-until.js'
import { assertRowsMatch, CUSTOMERS, seedOrders, toCents } from '../../support/orders-fixture.js'
import { createTestDatabase, dbPassword, type TestDatabase } from '../../support/test-database.js'

const NARROWING = `-- handover:contract
ALTER TABLE orders MODIFY amount DECIMAL(10,2) NOT NULL;
-- handover:contract-undo
ALTER TABLE orders MODIFY amount DECIMAL(12,2) NOT NULL;
`
const TUNING = { chunkRows: 300, chunkTargetMs: 15, maxThreadsRunning: 64, pauseRatio: 1 }

async function columnType(test: TestDatabase): Promise<string> {
  const [rows] = await test.db.query<RowDataPacket[]>("SELECT COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'orders' AND COLUMN_NAME = 'amount'", [test.schema])
  return String(rows[0]?.type)
}

async function tablesAndTriggers(test: TestDatabase): Promise<{ tables: string[]; triggers: string[] }> {
  const [tables] = await test.db.query<RowDataPacket[]>("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY name", [test.schema])
  const [triggers] = await test.db.query<RowDataPacket[]>('SELECT CONCAT(TRIGGER_NAME, \' on \', EVENT_OBJECT_TABLE) AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY name', [test.schema])
  return { tables: tables.map((row) => String(row.name)), triggers: triggers.map((row) => String(row.name)) }
}

t.test('a contract that copies its table is built during the expand and only swapped in by the contract; the undo swaps it back', async (t) => {
  const test = await createTestDatabase('rebuild')
  t.teardown(test.cleanup)
  const seeded = await seedOrders(test)
  await test.db.query(`CREATE TABLE audit (order_id BIGINT NOT NULL) ENGINE=InnoDB;
    CREATE TRIGGER app_audit AFTER UPDATE ON orders FOR EACH ROW INSERT INTO audit VALUES (NEW.id)`)
  const chain = readScripts(t.testdir({ 'v2.sql': NARROWING }))
  const connection = await connect(test.config)
  t.teardown(() => connection.end())
  await ensureMigrationTables(connection, test.journalSchema)
  const executor = serviceExecutor(connection, test.config, 'rebuild', 'rebuild-run', TUNING)
  const rehearsed = await rehearse(connection, test.schema, chain)
  t.equal(rehearsed.find((s) => s.part === 'contract')?.algorithm, 'COPY', 'the server copies the table for this change')
  executor.useAlgorithms(rehearsed)
  t.same((await executor.plannedRebuilds(chain)).map((spec) => spec.table), ['orders'], 'so it is planned as an online rebuild')

  const writer = await startOrderWriter({ schema: test.schema, password: dbPassword(), seeded, customers: CUSTOMERS, maxDurationMs: 120_000 })
  t.teardown(async () => void (await writer.stop()))
  await waitUntil(() => writer.written() >= 200, 20_000, 'writes before the expand')
  const captures: CaptureStep[] = []
  await executor.applyPart(chain, 'expand', undefined, undefined, (step) => captures.push(step))
  const rebuilt = captures.flatMap((step) => step.rebuilt ?? [])
  t.equal(rebuilt[0]?.table, 'orders', 'the expand rebuilt orders beside itself')
  // At most 2,000 rows a chunk: 20,000 seeded rows take at least ten.
  t.ok((rebuilt[0]?.copy.chunks ?? 0) >= 10, `in chunks (${rebuilt[0]?.copy.chunks})`)
  t.equal(await columnType(test), 'decimal(12,2)', 'the live table still has the old shape while the old version serves')
  const afterExpand = writer.written()
  await waitUntil(() => writer.written() >= afterExpand + 300, 20_000, 'writes between the expand and the drain')
  const report = await writer.stop()
  t.same(report.errors, [], 'no write of the old version failed')

  const applied: StatementApplied[] = []
  const began = performance.now()
  await executor.applyPart(chain, 'contract', (event) => applied.push(event))
  const holdMs = performance.now() - began
  t.ok(applied[0]?.rebuiltOnline, 'the contract only swapped the rebuilt table in')
  t.ok(holdMs < 3_000, `the contract took ${holdMs.toFixed(0)} ms, not a copy of the table`)
  t.equal(await columnType(test), 'decimal(10,2)', 'orders has the new shape')
  await assertRowsMatch(t, test, report, 'ROUND(amount * 100)', (state) => String(toCents(state.amount)))
  const after = await tablesAndTriggers(test)
  t.same(after.triggers, ['app_audit on orders'], "the table's own trigger moved with it; handover's are gone")
  t.ok(after.tables.some((name) => name.startsWith('_handover_old_')), 'the old table is kept until finalize')
  t.notOk(after.tables.some((name) => /^_handover_(new|rbk)_/.test(name)), 'no shadow or change table is left')
  // A row that still exists: the old version's writer deletes some, row 1 among them at times.
  const [[kept]] = await test.db.query<RowDataPacket[]>(`SELECT MIN(id) AS id FROM \`${test.schema}\`.orders`)
  const audits = async (): Promise<number> => Number((await test.db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${test.schema}\`.audit WHERE order_id = ?`, [kept!.id]))[0][0]!.n)
  const auditedBefore = await audits()
  await test.db.query(`UPDATE \`${test.schema}\`.orders SET amount = 1 WHERE id = ?`, [kept!.id])
  t.ok((await audits()) > auditedBefore, "the app's trigger fires on the new table")

  await executor.undoPart(chain, 'contract', 'contract-undo')
  t.equal(await columnType(test), 'decimal(12,2)', 'the undo swapped the old table back')
  const undone = await tablesAndTriggers(test)
  t.same(undone.triggers, ['app_audit on orders'], 'with its trigger')
  t.notOk(undone.tables.some((name) => name.startsWith('_handover_')), 'and nothing of the rebuild is left')
})
