/**
 * Online schema changes on a big, busy table, through handover's executor while writers
 * update old and new rows, insert, delete and hold long transactions. Two cases, each on a
 * fresh table of --rows rows, in one run:
 *   backfill: ADD COLUMN; UPDATE ... WHERE new IS NULL; DROP COLUMN (an unmarked script)
 *   rebuild:  a contract ALTER the server runs by copying the table (a narrowing)
 * For each it prints the writers' p99 and longest write in steady state (the baseline) and
 * during the expand, their ratio, the contract's time with the writers stopped (how long
 * requests are held at the flip), and acknowledged writes missing (must be 0). Beside the
 * longest write, which includes the host's own outliers, it prints the longest time a write
 * waited on a lock held by handover's connection (lib/handover-stall-sampler.ts) and the
 * longest stretch in which no write completed, steady state against expand.
 *
 * The server gets a buffer pool that holds the table and a redo log sized for a write-heavy
 * server, as a production server is sized for its data and load (--buffer-pool-mib, default
 * 2048; --redo-log-mib, default 1024; each raised only and set back at the end; 0 leaves the
 * server as it is: a table that does not fit, or the default 96 MiB redo log, whose
 * checkpoints stop every write of the server while a backfill fills it).
 *
 *   npx tsx scripts/bench/backfill-under-load.ts [--rows N] [--steady-seconds S] [--case backfill|rebuild] [--long-transactions R] [--after-ms MS] [--buffer-pool-mib N] [--redo-log-mib N]
 * (needs scripts/setup-env.sh; env from scripts/env-defaults.sh)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { connect, type Connection } from '../../src/db/connection.js'
import type { CaptureStep } from '../../src/db/migrations/migration-executor.js'
import { readScripts } from '../../src/db/migrations/scripts/migration-script.js'
import { rehearse } from '../../src/db/rehearsal/rehearsal.js'
import { ensureMigrationTables, serviceExecutor } from '../../src/db/migrations/service-executor.js'
import { startOrderWriter, type OrderState, type WriterReport } from '../lib/order-writer.js'
import { benchDatabase } from './lib/bench-database.js'
import { startStallSampler, type StallFigures, type StallSampler } from './lib/handover-stall-sampler.js'

const CASES = {
  backfill: {
    script: `ALTER TABLE orders ADD COLUMN amount_cents BIGINT NULL;
UPDATE orders SET amount_cents = amount * 100 WHERE amount_cents IS NULL;
ALTER TABLE orders DROP COLUMN amount;
`,
    /** The column that must hold every acknowledged amount afterwards, in cents. */
    check: 'amount_cents',
  },
  rebuild: {
    script: `-- handover:contract
ALTER TABLE orders MODIFY amount DECIMAL(10,2) NOT NULL;
-- handover:contract-undo
ALTER TABLE orders MODIFY amount DECIMAL(12,2) NOT NULL;
`,
    check: 'ROUND(amount * 100)',
  },
} as const
type CaseName = keyof typeof CASES

/** Old rows the writers pick from: spread over the whole table, few enough to keep in memory. */
const WORKING_SET = 200_000
const MIB = 1024 * 1024
/** How long a buffer pool resize may take before the bench gives up on it. */
const RESIZE_LIMIT_MS = 120_000
const rows = numberArg('--rows', 5_000_000)
const steadySeconds = numberArg('--steady-seconds', 10)
const afterMs = Number(stringArg('--after-ms') ?? 0)
if (!(afterMs >= 0 && afterMs <= 600_000)) throw new Error(`--after-ms must be from 0 to 600000, got ${stringArg('--after-ms')}`)
const longTransactionRatio = Number(stringArg('--long-transactions') ?? 0)
if (!(longTransactionRatio >= 0 && longTransactionRatio <= 0.5)) throw new Error(`--long-transactions must be a share from 0 to 0.5, got ${stringArg('--long-transactions')}`)
const only = stringArg('--case')
if (only !== undefined && !(only in CASES)) throw new Error(`--case must be one of ${Object.keys(CASES).join(', ')}, got ${only}`)
const bufferPoolMib = Number(stringArg('--buffer-pool-mib') ?? 2048)
if (!(Number.isInteger(bufferPoolMib) && bufferPoolMib >= 0 && bufferPoolMib <= 65_536)) throw new Error(`--buffer-pool-mib must be an integer from 0 to 65536, got ${stringArg('--buffer-pool-mib')}`)
const redoLogMib = Number(stringArg('--redo-log-mib') ?? 1024)
if (!(Number.isInteger(redoLogMib) && redoLogMib >= 0 && redoLogMib <= 65_536)) throw new Error(`--redo-log-mib must be an integer from 0 to 65536, got ${stringArg('--redo-log-mib')}`)
const password = process.env.HANDOVER_DB_PASSWORD
if (!password) throw new Error('HANDOVER_DB_PASSWORD is not set: . scripts/env-defaults.sh first')

const admin = await connect(benchDatabase('bench_admin'))
const originalPool = await bufferPoolBytes(admin)
const originalRedo = await redoLogBytes(admin)
try {
  if (bufferPoolMib > 0 && originalPool < bufferPoolMib * MIB) await resizeBufferPool(admin, bufferPoolMib * MIB)
  const used = await bufferPoolBytes(admin)
  console.log(`innodb_buffer_pool_size ${used / MIB} MiB${used === originalPool ? ' (as the server had it)' : ` (raised from ${originalPool / MIB} MiB for the bench)`}`)
  // MariaDB resizes the redo log online (10.9 and later); the SET returns once it is done.
  if (redoLogMib > 0 && originalRedo < redoLogMib * MIB) await admin.query('SET GLOBAL innodb_log_file_size = ?', [redoLogMib * MIB])
  const redo = await redoLogBytes(admin)
  console.log(`innodb_log_file_size ${redo / MIB} MiB${redo === originalRedo ? ' (as the server had it)' : ` (raised from ${originalRedo / MIB} MiB for the bench)`}`)
  for (const name of Object.keys(CASES) as CaseName[]) {
    if (only === undefined || only === name) await runCase(name)
  }
} finally {
  if ((await bufferPoolBytes(admin)) !== originalPool) await resizeBufferPool(admin, originalPool)
  if ((await redoLogBytes(admin)) !== originalRedo) await admin.query('SET GLOBAL innodb_log_file_size = ?', [originalRedo])
  await admin.end()
}

async function runCase(name: CaseName): Promise<void> {
  const config = benchDatabase(`bench_${name}`)
  const schema = config.schema
  const db = await connect(config)
  const dir = mkdtempSync(join(tmpdir(), 'bench-online-'))
  let samplerDb: Connection | undefined
  let sampler: StallSampler | undefined
  try {
    console.log(`\n== ${name}: ${rows.toLocaleString('en')} rows`)
    const seeded = await seed(db, schema)
    writeFileSync(join(dir, 'v2.sql'), CASES[name].script)
    await ensureMigrationTables(db, config.journalSchema)
    const executor = serviceExecutor(db, config, 'bench', 'bench-run')
    const chain = readScripts(dir)
    executor.useAlgorithms(await rehearse(db, schema, chain))
    // The executor runs everything (chunks, copies, DDL) on `db`: its id is handover's.
    const [own] = await db.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id')
    samplerDb = await connect(config)
    // A DDL (a trigger's CREATE) waits for every transaction open on the table when it runs, and
    // the service's writes queue behind it: --long-transactions R makes that share of writes a
    // 300 ms transaction, to measure that stall.
    const writer = await startOrderWriter({ schema, password: password!, seeded, customers: 50, workers: 8, maxDurationMs: 3_600_000, maxWrites: 10_000_000, longTransactionRatio })
    // Sampling from the steady state on, so that its own load weighs on both phases alike.
    sampler = await startStallSampler({ connection: samplerDb, holders: [Number(own[0]!.id)], schema, maxDurationMs: 3_600_000 })
    writer.markPhase('steady')
    sampler.markPhase('steady')
    await sleep(steadySeconds * 1000)
    writer.markPhase('expand')
    sampler.markPhase('expand')
    const captures: CaptureStep[] = []
    const expandStarted = performance.now()
    let backfillLine = ''
    await executor.applyPart(chain, 'expand', (event) => {
      const chunks = event.backfill?.chunks
      if (chunks) backfillLine = `backfill of ${chunks.rows.toLocaleString('en')} rows in ${chunks.chunks} chunks, longest chunk ${chunks.longestChunkMs.toFixed(0)} ms, capture ${event.backfill!.capture}`
    }, undefined, (step) => captures.push(step))
    const expandSeconds = (performance.now() - expandStarted) / 1000
    const copy = captures.flatMap((step) => step.rebuilt ?? [])[0]?.copy
    if (copy) backfillLine = `rebuild copy of ${copy.rows.toLocaleString('en')} rows in ${copy.chunks} chunks, longest chunk ${copy.longestChunkMs.toFixed(0)} ms`
    // The flip follows the expand at once: new requests are held from then on and the old
    // slot only finishes what it has in flight, which stop() waits for. --after-ms keeps the
    // writers going longer, to see the contract replay a bigger backlog.
    writer.markPhase('after')
    sampler.markPhase('after')
    await sleep(afterMs)
    const report = await writer.stop()
    const stalls = await sampler.stop()
    const holdStarted = performance.now()
    await executor.applyPart(chain, 'contract')
    const holdMs = performance.now() - holdStarted
    const lost = await lostWrites(db, schema, report, seeded, CASES[name].check)

    const steady = report.latencyByPhase.steady!
    const during = report.latencyByPhase.expand!
    console.log(`expand ${expandSeconds.toFixed(1)} s: ${backfillLine}`)
    console.log(`writes: ${report.updates} updates, ${report.inserts} inserts, ${report.deletes} deletes, ${report.longTransactions} long transactions, ${report.errors.length} errors`)
    console.log(`steady state:  ${steady.count} writes, p50 ${steady.p50.toFixed(2)} ms, p99 ${steady.p99.toFixed(2)} ms, max ${steady.max.toFixed(0)} ms, ${steady.over100ms} over 100 ms`)
    console.log(`during expand: ${during.count} writes, p50 ${during.p50.toFixed(2)} ms, p99 ${during.p99.toFixed(2)} ms, max ${during.max.toFixed(0)} ms, ${during.over100ms} over 100 ms`)
    console.log(`write p99 during expand / steady: ${(during.p99 / steady.p99).toFixed(2)} (target <= 2)`)
    console.log(`longest write during expand: ${during.max.toFixed(0)} ms, steady max ${steady.max.toFixed(0)} ms`)
    console.log(`longest write stall held by handover during expand: ${stallLine(stalls.byPhase.expand)} (target < 100 ms)`)
    console.log(`  (sampled: ${stalls.samples} samples, longest gap between two ${stalls.longestSampleGapMs.toFixed(0)} ms, ${stalls.lockSnapshots} row-lock snapshots; steady state: ${stallLine(stalls.byPhase.steady)}; after the expand: ${stallLine(stalls.byPhase.after)})`)
    console.log(`longest gap with no write completed: steady ${(report.longestGapByPhase.steady ?? 0).toFixed(0)} ms, during expand ${(report.longestGapByPhase.expand ?? 0).toFixed(0)} ms`)
    console.log(`hold at the flip (the contract with writers stopped): ${holdMs.toFixed(0)} ms (target < 1000 ms)`)
    console.log(`acknowledged writes lost: ${lost}`)
  } finally {
    await sampler?.stop().catch(() => undefined)
    await samplerDb?.end()
    await db.query(`DROP DATABASE IF EXISTS ${schema}`)
    await db.query(`DROP DATABASE IF EXISTS ${schema}_journal`)
    await db.end()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function seed(db: Connection, schema: string): Promise<Map<number, OrderState>> {
  const began = performance.now()
  await db.query(`CREATE DATABASE ${schema}`)
  await db.query(`CREATE TABLE ${schema}.orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, amount DECIMAL(12,2) NOT NULL, customer_id INT NOT NULL) ENGINE=InnoDB`)
  for (let from = 1; from <= rows; from += 500_000) {
    const to = Math.min(rows, from + 499_999)
    await db.query(`INSERT INTO ${schema}.orders (id, amount, customer_id) SELECT seq, (seq % 997) + 0.5, 1 + seq % 50 FROM ${schema}.seq_${from}_to_${to}`)
  }
  console.log(`seeded in ${((performance.now() - began) / 1000).toFixed(0)} s`)
  const seeded = new Map<number, OrderState>()
  const step = Math.max(1, Math.floor(rows / WORKING_SET))
  for (let id = 1; id <= rows; id += step) seeded.set(id, stateOf(id))
  return seeded
}

function stateOf(id: number): OrderState {
  return { amount: ((id % 997) + 0.5).toFixed(2), customerId: 1 + (id % 50) }
}

/**
 * Rows the writers touched are compared one by one with their last acknowledged state;
 * every other row must still hold its seeded amount, checked by the server in one pass.
 */
async function lostWrites(db: Connection, schema: string, report: WriterReport, seeded: Map<number, OrderState>, check: string): Promise<number> {
  const touched = [...report.expected].filter(([id, state]) => state !== seeded.get(id))
  await db.query(`CREATE TABLE ${schema}.touched (id BIGINT PRIMARY KEY, cents BIGINT NULL) ENGINE=InnoDB`)
  for (let i = 0; i < touched.length; i += 5_000) {
    const batch = touched.slice(i, i + 5_000).map(([id, state]) => [id, state === null ? null : cents(state.amount)])
    await db.query(`INSERT INTO ${schema}.touched VALUES ?`, [batch])
  }
  const [wrong] = await db.query<RowDataPacket[]>(
    `SELECT (SELECT COUNT(*) FROM ${schema}.touched t LEFT JOIN ${schema}.orders o USING (id)
              WHERE (t.cents IS NULL AND o.id IS NOT NULL) OR (t.cents IS NOT NULL AND (o.id IS NULL OR ${check.replace(/amount/g, 'o.amount')} <> t.cents))) +
            (SELECT COUNT(*) FROM ${schema}.orders o LEFT JOIN ${schema}.touched t USING (id)
              WHERE t.id IS NULL AND o.id <= ${rows} AND (${check.replace(/amount/g, 'o.amount')} IS NULL OR ${check.replace(/amount/g, 'o.amount')} <> ROUND(((o.id % 997) + 0.5) * 100))) AS n`,
  )
  return Number(wrong[0]!.n)
}

function cents(amount: string): number {
  const [whole = '0', fraction = ''] = amount.split('.')
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0').slice(0, 2))
}

function stallLine(figures: StallFigures | undefined): string {
  if (!figures || figures.waits === 0) return 'none seen'
  return `${figures.longestMs.toFixed(0)} ms (${figures.longest!.kind}: ${figures.longest!.statement}), ${figures.waits} writes waited on it, ${figures.over100ms} over 100 ms`
}

async function redoLogBytes(db: Connection): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT @@GLOBAL.innodb_log_file_size AS size')
  return Number(rows[0]!.size)
}

async function bufferPoolBytes(db: Connection): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT @@GLOBAL.innodb_buffer_pool_size AS size')
  return Number(rows[0]!.size)
}

/** SET GLOBAL innodb_buffer_pool_size, then waits (bounded) for the server to report the resize done. */
async function resizeBufferPool(db: Connection, bytes: number): Promise<void> {
  await db.query('SET GLOBAL innodb_buffer_pool_size = ?', [bytes])
  for (let waited = 0; waited < RESIZE_LIMIT_MS; waited += 100) {
    const [rows] = await db.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_resize_status'")
    const status = String(rows[0]?.Value ?? '')
    if ((status === '' || /completed/i.test(status)) && (await bufferPoolBytes(db)) === bytes) return
    await sleep(100)
  }
  throw new Error(`the buffer pool did not reach ${bytes / MIB} MiB within ${RESIZE_LIMIT_MS / 1000} s`)
}

function numberArg(name: string, fallback: number): number {
  const value = stringArg(name)
  if (value === undefined) return fallback
  const number = Number(value)
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name} must be a positive integer, got ${value}`)
  return number
}

function stringArg(name: string): string | undefined {
  const index = process.argv.indexOf(name)
  return index === -1 ? undefined : process.argv[index + 1]
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
