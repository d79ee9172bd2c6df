import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import { HandoverError, errorMessage } from '../../errors.js'
import { quoteName, type Connection } from '../connection.js'
import type { Chunking } from './backfill-shape.js'
import type { BackfillProgressLedger } from './backfill-progress.js'
import { keyList, keyRange } from './key-sql.js'
import type { TableKey } from './table-key.js'
import { OWN_WRITES_VARIABLE } from './write-capture.js'

/** How hard a backfill may push: the defaults keep each chunk's row locks short. */
export interface BackfillTuning {
  /** Rows in the first chunk; later chunks are sized to take about `chunkTargetMs`. */
  chunkRows: number
  chunkTargetMs: number
  /** Above this many running threads the backfill waits before its next chunk. */
  maxThreadsRunning: number
  /** After each chunk, a pause of this share of the chunk's time, so the service's own writes get their turn. */
  pauseRatio: number
}

export const DEFAULT_BACKFILL_TUNING: BackfillTuning = { chunkRows: 500, chunkTargetMs: 20, maxThreadsRunning: 32, pauseRatio: 0.5 }

export class BackfillFailedError extends HandoverError {
  readonly code = 'BACKFILL_FAILED'
}

export interface ChunkedBackfillJob {
  connection: Connection
  schema: string
  table: string
  key: TableKey
  chunking: Chunking
  ledger: BackfillProgressLedger
  script: string
  index: number
  tuning: BackfillTuning
  signal?: AbortSignal
  /**
   * Lock each chunk's rows (NOWAIT) before it runs: an UPDATE locks them anyway, so it must
   * take them all at once or none. A copy that only reads them (a rebuild under READ
   * COMMITTED, its writes captured by triggers) takes no lock on them at all.
   */
  lockRows?: boolean
  /** A DELETE head run on the chunk's range first, in the same transaction (a copy that may run again). */
  clearHead?: string
}

export interface BackfillReport {
  rows: number
  chunks: number
  longestChunkMs: number
  /** Chunks of a run before this one (a resumed backfill goes on from its last key). */
  resumedAfterChunks: number
}

const MIN_CHUNK_ROWS = 50
const MAX_CHUNK_ROWS = 2_000
const LOCK_WAIT_SECONDS = 1
const LOCK_ERRNOS = new Set([1205, 1213])
/** How long a chunk keeps stepping back from rows locked by the service before it waits for them. */
const NOWAIT_BUDGET_MS = 10_000
const MAX_LOCK_RETRIES = 200
const THROTTLE_STEP_MS = 100
/** The longest a chunk waits for the server to calm down: a service that never does must still get its backfill. */
const MAX_THROTTLE_MS = 5_000
/** Transactions waiting for a row lock at once above which the next chunk waits: the service is contending. */
const MAX_ROW_LOCK_WAITS = 4

/**
 * Runs a backfill UPDATE over key ranges, one short transaction per chunk: each chunk's row
 * locks last only as long as the chunk, so a write of the service to a row in it waits
 * milliseconds, not the whole backfill. Each chunk commits with its progress row, so a run
 * cut off goes on from the last committed chunk.
 */
export async function runChunkedBackfill(job: ChunkedBackfillJob): Promise<BackfillReport> {
  const { connection, ledger, script, index, tuning } = job
  const progress = await ledger.read(script, index)
  const report: BackfillReport = { rows: progress.rows, chunks: progress.chunks, longestChunkMs: 0, resumedAfterChunks: progress.chunks }
  let last = progress.lastKey
  let size = tuning.chunkRows
  let lockRetries = 0
  let conflictSince: number | undefined
  await connection.query(`SET SESSION innodb_lock_wait_timeout = ${LOCK_WAIT_SECONDS}, ${OWN_WRITES_VARIABLE} = 1`)
  try {
    for (;;) {
      job.signal?.throwIfAborted()
      const upper = await boundary(job, last, size)
      const began = performance.now()
      let rows: number
      const nowait = job.lockRows !== false && (conflictSince === undefined || performance.now() - conflictSince < NOWAIT_BUDGET_MS)
      try {
        rows = await runChunk(job, last, upper, { lastKey: upper ?? last, rows: report.rows, chunks: report.chunks + 1 }, nowait)
      } catch (error) {
        if (!LOCK_ERRNOS.has((error as { errno?: number }).errno ?? 0) || ++lockRetries > MAX_LOCK_RETRIES) {
          throw new BackfillFailedError(`backfill of ${job.table} (${script}, statement ${index + 1}) failed after ${report.chunks} chunks: ${errorMessage(error)}`)
        }
        conflictSince ??= performance.now()
        size = Math.max(MIN_CHUNK_ROWS, Math.floor(size / 2))
        await sleep(THROTTLE_STEP_MS / 2)
        continue
      }
      lockRetries = 0
      conflictSince = undefined
      const elapsed = performance.now() - began
      report.rows += rows
      report.chunks++
      report.longestChunkMs = Math.max(report.longestChunkMs, elapsed)
      if (!upper) break
      last = upper
      size = nextSize(size, elapsed, tuning)
      await throttle(connection, tuning, elapsed, job.signal)
    }
  } finally {
    await connection.query(`SET SESSION innodb_lock_wait_timeout = DEFAULT, ${OWN_WRITES_VARIABLE} = NULL`)
  }
  return report
}

/** The key `size` rows after `last`, or undefined when fewer remain (the last chunk is open-ended). */
async function boundary(job: ChunkedBackfillJob, last: unknown[] | undefined, size: number): Promise<unknown[] | undefined> {
  const range = keyRange(job.key, last, undefined)
  const names = keyList(job.key)
  const [rows] = await job.connection.query<RowDataPacket[]>(
    `SELECT ${names} FROM ${quoteName(job.schema)}.${quoteName(job.table)} WHERE ${range.sql} ORDER BY ${names} LIMIT 1 OFFSET ${size - 1}`,
    range.values,
  )
  const row = rows[0]
  return row ? job.key.columns.map((column) => row[column.name]) : undefined
}

/**
 * One chunk in its own transaction. With `nowait`, the chunk's rows are locked first with
 * NOWAIT: a row the service holds (a long transaction) makes the chunk give up at once
 * instead of waiting while holding the locks it already has, which would stall every
 * other write to those rows.
 */
async function runChunk(job: ChunkedBackfillJob, last: unknown[] | undefined, upper: unknown[] | undefined, next: { lastKey: unknown[] | undefined; rows: number; chunks: number }, nowait: boolean): Promise<number> {
  const { connection, chunking } = job
  const range = keyRange(job.key, last, upper)
  const condition = chunking.condition ? `(${chunking.condition}\n) AND ` : ''
  await connection.beginTransaction()
  try {
    if (nowait) await connection.query(`SELECT 1 FROM ${quoteName(job.schema)}.${quoteName(job.table)} WHERE ${range.sql} FOR UPDATE NOWAIT`, range.values)
    if (job.clearHead) await connection.query(`${job.clearHead} WHERE ${range.sql}`, range.values)
    const [result] = await connection.query<ResultSetHeader>(`${chunking.head} WHERE ${condition}(${range.sql})`, range.values)
    await job.ledger.save(job.script, job.index, { ...next, rows: next.rows + result.affectedRows })
    await connection.commit()
    return result.affectedRows
  } catch (error) {
    await connection.rollback().catch(() => undefined)
    throw error
  }
}

function nextSize(size: number, elapsedMs: number, tuning: BackfillTuning): number {
  const scaled = size * (tuning.chunkTargetMs / Math.max(elapsedMs, 1))
  // At most double or halve at a time: one slow chunk (a hiccup of the host) must not collapse the size.
  const bounded = Math.min(size * 2, Math.max(size / 2, scaled))
  return Math.round(Math.min(MAX_CHUNK_ROWS, Math.max(MIN_CHUNK_ROWS, bounded)))
}

/**
 * Pauses after a chunk, and longer (bounded) while the server is busy: more threads running
 * than the tuning allows, or transactions of the service waiting for row locks.
 */
async function throttle(connection: Connection, tuning: BackfillTuning, chunkMs: number, signal: AbortSignal | undefined): Promise<void> {
  if (tuning.pauseRatio > 0) await sleep(chunkMs * tuning.pauseRatio)
  for (let waited = 0; waited < MAX_THROTTLE_MS; waited += THROTTLE_STEP_MS) {
    signal?.throwIfAborted()
    const [rows] = await connection.query<RowDataPacket[]>("SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_running', 'Innodb_row_lock_current_waits')")
    const status = new Map(rows.map((row) => [String(row.Variable_name), Number(row.Value)]))
    if ((status.get('Threads_running') ?? 0) <= tuning.maxThreadsRunning && (status.get('Innodb_row_lock_current_waits') ?? 0) <= MAX_ROW_LOCK_WAITS) return
    await sleep(THROTTLE_STEP_MS)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
