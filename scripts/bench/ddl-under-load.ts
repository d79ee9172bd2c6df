/**
 * The write stall an expand migration causes on a busy 1,000,000-row table: handover's
 * executor (the algorithm the rehearsal found, short lock waits, retries) against a plain
 * ALTER TABLE with the table-copy algorithm, with the same writers, in one run.
 *
 *   npx tsx scripts/bench/ddl-under-load.ts        (needs scripts/setup-env.sh; env from scripts/env-defaults.sh)
 */
import mysql from 'mysql2/promise'
import { connect } from '../../src/db/connection.js'
import { parseScript } from '../../src/db/migrations/scripts/migration-script.js'
import { rehearse } from '../../src/db/rehearsal/rehearsal.js'
import { ensureMigrationTables, serviceExecutor } from '../../src/db/migrations/service-executor.js'
import { quantileOfSorted } from '../lib/quantile.js'
import { benchDatabase } from './lib/bench-database.js'

const ROWS = 1_000_000
const WRITERS = 4
const MAX_WRITES_PER_WRITER = 200_000
const SETTLE_MS = 1_000

const config = benchDatabase('bench_ddl')
const schema = config.schema

const HANDOVER_SCRIPT = `-- handover:expand
ALTER TABLE items ADD COLUMN color VARCHAR(20) NULL;
ALTER TABLE items ADD INDEX by_qty (qty);
`
const PLAIN_COPY = 'ALTER TABLE items ADD COLUMN colour VARCHAR(20) NULL, ALGORITHM=COPY'

interface Stalls {
  writes: number
  longestMs: number
  p99Ms: number
}

async function main(): Promise<void> {
  const admin = await connect(config)
  try {
    await admin.query(`CREATE DATABASE ${schema}`)
    await admin.query(`CREATE DATABASE ${config.journalSchema}`)
    // The sequence engine's seq_1_to_N tables resolve in the current schema.
    await admin.query(`USE ${schema}`)
    await admin.query(`CREATE TABLE ${schema}.items (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, qty INT NOT NULL, note VARCHAR(40) NULL) ENGINE=InnoDB`)
    const fill = performance.now()
    await admin.query(`INSERT INTO ${schema}.items (name, qty) SELECT CONCAT('item ', seq), seq MOD 1000 FROM seq_1_to_${ROWS}`)
    say(`table: ${ROWS.toLocaleString('en')} rows in ${((performance.now() - fill) / 1000).toFixed(1)} s; ${WRITERS} writers (INSERT and UPDATE by primary key)`)

    const handover = await underLoad(async () => {
      const script = parseScript('/bench/v2.sql', 'v2.sql', HANDOVER_SCRIPT)
      const db = await connect(config)
      await ensureMigrationTables(db, config.journalSchema)
      const executor = serviceExecutor(db, config, 'bench', 'bench')
      const rehearsed = await rehearse(db, schema, [script])
      executor.useAlgorithms(rehearsed)
      await executor.applyPart([script], 'expand')
      await db.end()
      return rehearsed.filter((s) => s.part === 'expand').map((s) => s.algorithm).join(' + ')
    })
    const plain = await underLoad(async () => {
      const db = await connect(config)
      await db.query(`USE ${schema}`)
      await db.query(PLAIN_COPY)
      await db.end()
      return 'COPY'
    })
    report('handover expand (ADD COLUMN + ADD INDEX)', handover)
    report('plain ALTER TABLE ... ALGORITHM=COPY', plain)
    say(`longest write stall: handover ${handover.stalls.longestMs.toFixed(0)} ms vs table copy ${plain.stalls.longestMs.toFixed(0)} ms (${(plain.stalls.longestMs / Math.max(handover.stalls.longestMs, 0.001)).toFixed(0)} x shorter)`)
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${schema}`)
    await admin.query(`DROP DATABASE IF EXISTS ${config.journalSchema}`)
    await admin.end()
  }
}

function report(what: string, result: { algorithm: string; ddlMs: number; stalls: Stalls }): void {
  say(`${what}: algorithm ${result.algorithm}, DDL ${result.ddlMs.toFixed(0)} ms; ${result.stalls.writes} writes during it, p99 ${result.stalls.p99Ms.toFixed(1)} ms, longest ${result.stalls.longestMs.toFixed(0)} ms`)
}

/** Runs `ddl` while writers write; the stall is the longest single write from DDL start to end. */
async function underLoad(ddl: () => Promise<string>): Promise<{ algorithm: string; ddlMs: number; stalls: Stalls }> {
  const writers = await Promise.all(Array.from({ length: WRITERS }, () => mysql.createConnection({ host: config.host, port: config.port, user: config.user, password: process.env.HANDOVER_DB_PASSWORD, database: schema })))
  let window: { start: number; end: number } | undefined
  const latencies: { at: number; ms: number }[] = []
  let stop = false
  const loops = writers.map(async (connection, w) => {
    for (let i = 0; i < MAX_WRITES_PER_WRITER && !stop; i++) {
      const began = performance.now()
      if (i % 2 === 0) await connection.query('INSERT INTO items (name, qty) VALUES (?, ?)', [`w${w}-${i}`, i % 1000])
      else await connection.query('UPDATE items SET qty = qty + 1 WHERE id = ?', [1 + Math.floor(Math.random() * ROWS)])
      latencies.push({ at: began, ms: performance.now() - began })
    }
  })
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
  const start = performance.now()
  const algorithm = await ddl()
  window = { start, end: performance.now() }
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
  stop = true
  await Promise.all(loops)
  await Promise.all(writers.map((connection) => connection.end()))
  // A write that started before the DDL ended and finished after it started overlapped it.
  const during = latencies.filter((l) => l.at <= window!.end && l.at + l.ms >= window!.start).map((l) => l.ms).sort((a, b) => a - b)
  return {
    algorithm,
    ddlMs: window.end - window.start,
    stalls: { writes: during.length, longestMs: during[during.length - 1] ?? 0, p99Ms: during.length === 0 ? 0 : quantileOfSorted(during, 0.99) },
  }
}

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`ddl-under-load: ${(error as Error).message}\n`)
  process.exitCode = 1
})
