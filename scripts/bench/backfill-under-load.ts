/**
 * A backfill on a big, busy table: the legacy-shape script (ADD COLUMN; UPDATE ... WHERE
 * new IS NULL; DROP COLUMN) through handover's executor while writers update old and new
 * rows, insert, delete and hold long transactions. Prints, in one run:
 *   - the writers' p99 and longest write in steady state (the baseline) and during the
 *     expand's chunked backfill, and their ratio;
 *   - the contract's time with the writers stopped, which is how long requests are held
 *     at the flip;
 *   - acknowledged writes missing from the new column (must be 0).
 *
 *   npx tsx scripts/bench/backfill-under-load.ts [--rows N] [--steady-seconds S]
 * (needs scripts/setup-env.sh; env from scripts/env-defaults.sh)
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import type { DatabaseConfig } from '../../src/config/config.js'
import { connect } from '../../src/db/connection.js'
import type { CaptureStep, StatementApplied } from '../../src/db/migration-executor.js'
import { readScripts } from '../../src/db/migration-script.js'
import { ensureMigrationTables, serviceExecutor } from '../../src/db/service-executor.js'
import { startOrderWriter, type OrderState } from '../lib/order-writer.js'

const rows = numberArg('--rows', 5_000_000)
const steadySeconds = numberArg('--steady-seconds', 10)
const password = process.env.HANDOVER_DB_PASSWORD
if (!password) throw new Error('HANDOVER_DB_PASSWORD is not set: . scripts/env-defaults.sh first')
const schema = `bench_backfill_${randomBytes(3).toString('hex')}`
const config: DatabaseConfig = {
  host: '127.0.0.1',
  port: 3306,
  user: process.env.HANDOVER_DB_USER ?? 'handover',
  password: { fromEnv: 'HANDOVER_DB_PASSWORD' },
  schema,
  journalSchema: `${schema}_journal`,
  versionTable: 'app_version',
  versionColumn: 'version',
}
const SCRIPT = `ALTER TABLE orders ADD COLUMN amount_cents BIGINT NULL;
UPDATE orders SET amount_cents = amount * 100 WHERE amount_cents IS NULL;
ALTER TABLE orders DROP COLUMN amount;
`

const db = await connect(config)
const dir = mkdtempSync(join(tmpdir(), 'bench-backfill-'))
try {
  await db.query(`CREATE DATABASE ${schema}`)
  const seedStarted = performance.now()
  await db.query(`CREATE TABLE ${schema}.orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, amount DECIMAL(12,2) NOT NULL, customer_id INT NOT NULL) ENGINE=InnoDB`)
  for (let from = 1; from <= rows; from += 500_000) {
    const to = Math.min(rows, from + 499_999)
    await db.query(`INSERT INTO ${schema}.orders (id, amount, customer_id) SELECT seq, (seq % 997) + 0.5, 1 + seq % 50 FROM ${schema}.seq_${from}_to_${to}`)
  }
  console.log(`seeded ${rows.toLocaleString('en')} rows in ${((performance.now() - seedStarted) / 1000).toFixed(0)} s`)
  const seeded = new Map<number, OrderState>()
  for (let id = 1; id <= rows; id++) seeded.set(id, { amount: ((id % 997) + 0.5).toFixed(2), customerId: 1 + (id % 50) })

  writeFileSync(join(dir, 'v2.sql'), SCRIPT)
  await ensureMigrationTables(db, config.journalSchema)
  const executor = serviceExecutor(db, config, 'bench', 'bench-run')
  const chain = readScripts(dir)
  const writer = await startOrderWriter({ schema, password, seeded, customers: 50, workers: 8, maxDurationMs: 3_600_000, maxWrites: 10_000_000 })
  writer.markPhase('steady')
  await sleep(steadySeconds * 1000)
  writer.markPhase('expand')
  const applied: StatementApplied[] = []
  const captures: CaptureStep[] = []
  const expandStarted = performance.now()
  await executor.applyPart(chain, 'expand', (event) => applied.push(event), undefined, (step) => captures.push(step))
  const expandSeconds = (performance.now() - expandStarted) / 1000
  writer.markPhase('after')
  await sleep(2_000)
  const report = await writer.stop()
  const holdStarted = performance.now()
  await executor.applyPart(chain, 'contract', (event) => applied.push(event), undefined, (step) => captures.push(step))
  const holdMs = performance.now() - holdStarted

  const [stored] = await db.query<RowDataPacket[]>(`SELECT id, amount_cents FROM ${schema}.orders`)
  const actual = new Map(stored.map((row) => [Number(row.id), String(row.amount_cents)]))
  let lost = 0
  for (const [id, state] of report.expected) {
    const want = state === null ? undefined : String(Math.round(Number(state.amount) * 100))
    if (want === undefined ? actual.has(id) : actual.get(id) !== want) lost++
  }
  const steady = report.latencyByPhase.steady!
  const during = report.latencyByPhase.expand!
  const backfill = applied.find((event) => event.backfill)?.backfill
  console.log(`expand ${expandSeconds.toFixed(1)} s: backfill ${backfill?.chunks?.rows.toLocaleString('en')} rows in ${backfill?.chunks?.chunks} chunks, longest chunk ${backfill?.chunks?.longestChunkMs.toFixed(0)} ms, capture ${backfill?.capture}`)
  console.log(`writes: ${report.updates} updates, ${report.inserts} inserts, ${report.deletes} deletes, ${report.longTransactions} long transactions, ${report.errors.length} errors`)
  console.log(`steady state: ${steady.count} writes, p50 ${steady.p50.toFixed(2)} ms, p99 ${steady.p99.toFixed(2)} ms, max ${steady.max.toFixed(0)} ms`)
  console.log(`during expand: ${during.count} writes, p50 ${during.p50.toFixed(2)} ms, p99 ${during.p99.toFixed(2)} ms, max ${during.max.toFixed(0)} ms`)
  console.log(`p99 during / steady: ${(during.p99 / steady.p99).toFixed(2)} (target <= 2)`)
  console.log(`longest write stall during expand, beyond the steady max: ${Math.max(0, during.max - steady.max).toFixed(0)} ms (longest write ${during.max.toFixed(0)} ms; target < 100 ms)`)
  console.log(`hold at the flip (contract with writers stopped): ${holdMs.toFixed(0)} ms (target < 1000 ms)`)
  console.log(`acknowledged writes lost: ${lost} of ${report.expected.size} rows checked`)
} finally {
  await db.query(`DROP DATABASE IF EXISTS ${schema}`)
  await db.query(`DROP DATABASE IF EXISTS ${schema}_journal`)
  await db.end()
  rmSync(dir, { recursive: true, force: true })
}

function numberArg(name: string, fallback: number): number {
  const index = process.argv.indexOf(name)
  if (index === -1) return fallback
  const value = Number(process.argv[index + 1])
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${process.argv[index + 1]}`)
  return value
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
