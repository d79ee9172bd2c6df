/**
 * How long the service's statements wait on locks held by handover's own connections (the
 * backfill or copy, the DDL), told apart from the host's own slowness: a write that is slow
 * because the VM stalled waits on nothing, one that waits on a chunk's row locks or behind a
 * DDL's metadata lock shows up here.
 *
 * Two samples, from a connection of their own:
 * - every ~10 ms, the service's running statements (information_schema.PROCESSLIST, read
 *   live): each statement's elapsed time (TIME_MS, in ms), and whether it waits for a
 *   metadata lock (only handover runs DDL on the table, so such a wait is handover's);
 * - whenever a statement has run for a while, the row-lock waits (INNODB_LOCK_WAITS joined to
 *   INNODB_TRX) whose blocking transaction runs on one of handover's connections. InnoDB
 *   refreshes these tables only when they were last read more than 100 ms ago (polled faster,
 *   they never change), so they are read at most every LOCK_SNAPSHOT_MS: a wait that lasts
 *   longer than that is always seen, a shorter one may not be.
 * A statement seen waiting on handover counts with its elapsed time at the last sample that
 * still found it in the state it waited in ('Updating' for a row lock, 'Waiting for table
 * metadata lock'): INNODB_TRX's trx_wait_started has whole seconds only, and the statement's
 * commit that follows the wait ('Commit', 'Updating status': the redo log's flush, which every
 * write pays) is the host's, not handover's. So the figure is the wait plus the statement's
 * work before it (microseconds for a key lookup), short by at most one sampling interval.
 * Bounded in time and iterations.
 */
import type { RowDataPacket } from 'mysql2/promise'
import type { Connection } from '../../../src/db/connection.js'

export type WaitKind = 'row lock' | 'metadata lock'

export interface StallFigures {
  /** The longest a statement of the service waited on handover, in ms (0: none seen). */
  longestMs: number
  /** What that statement was waiting for, and its text (cut short). */
  longest?: { kind: WaitKind; statement: string }
  /** Statements seen waiting on handover, and of them those over 100 ms. */
  waits: number
  over100ms: number
}

export interface StallReport {
  byPhase: Record<string, StallFigures>
  /** PROCESSLIST samples taken, and the longest time between two (the resolution actually had). */
  samples: number
  longestSampleGapMs: number
  lockSnapshots: number
}

export interface StallSampler {
  /** Counts the waits that end from now on under `label`. */
  markPhase(label: string): void
  stop(): Promise<StallReport>
}

export interface StallSamplerOptions {
  /** The sampler's own connection (not one of handover's). */
  connection: Connection
  /** Connection ids of handover's sessions: waits on them are the ones counted. */
  holders: readonly number[]
  /** The schema the service writes to (its connections' default schema). */
  schema: string
  intervalMs?: number
  maxDurationMs: number
}

/** InnoDB's trx cache refreshes only when last read more than 100 ms ago; a little over it, as seen from here. */
const LOCK_SNAPSHOT_MS = 105
/** A statement running this long may be waiting: worth a row-lock snapshot. */
const SUSPECT_MS = 10
const STATEMENT_TEXT = 60

interface Running {
  elapsedMs: number
  kind?: WaitKind
  /** The PROCESSLIST state the statement waited in: its time grows only while it stays there. */
  waitState?: string
  statement: string
}

const METADATA_WAIT = 'Waiting for table metadata lock'

export async function startStallSampler(options: StallSamplerOptions): Promise<StallSampler> {
  const { connection, holders, schema } = options
  const intervalMs = options.intervalMs ?? 10
  const [own] = await connection.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id')
  const excluded = [...holders, Number(own[0]!.id)]
  const report: StallReport = { byPhase: {}, samples: 0, longestSampleGapMs: 0, lockSnapshots: 0 }
  const running = new Map<string, Running>()
  const deadline = performance.now() + options.maxDurationMs
  let phase = 'start'
  let stopped = false

  /** A statement that ended (or the sampler stopped): counted if it waited on handover. */
  const settle = (entry: Running): void => {
    if (entry.kind === undefined) return
    const figures = (report.byPhase[phase] ??= { longestMs: 0, waits: 0, over100ms: 0 })
    figures.waits++
    if (entry.elapsedMs > 100) figures.over100ms++
    if (entry.elapsedMs > figures.longestMs) {
      figures.longestMs = entry.elapsedMs
      figures.longest = { kind: entry.kind, statement: entry.statement }
    }
  }

  const sampleStatements = async (): Promise<boolean> => {
    const [rows] = await connection.query<RowDataPacket[]>(
      `SELECT ID AS id, QUERY_ID AS query, TIME_MS AS ms, STATE AS state, LEFT(INFO, ${STATEMENT_TEXT}) AS info
         FROM information_schema.PROCESSLIST WHERE DB = ? AND COMMAND = 'Query' AND ID NOT IN (?)`,
      [schema, excluded],
    )
    const seen = new Set<string>()
    let suspect = false
    for (const row of rows) {
      const key = `${row.id}:${row.query}`
      seen.add(key)
      const ms = Number(row.ms)
      const state = String(row.state ?? '')
      const entry: Running = running.get(key) ?? { elapsedMs: 0, statement: String(row.info ?? '') }
      if (state === METADATA_WAIT) {
        entry.kind = 'metadata lock'
        entry.waitState = state
      }
      if (entry.waitState === undefined || state === entry.waitState) entry.elapsedMs = Math.max(entry.elapsedMs, ms)
      running.set(key, entry)
      if (ms >= SUSPECT_MS && entry.kind === undefined) suspect = true
    }
    for (const [key, entry] of running) {
      if (seen.has(key)) continue
      settle(entry)
      running.delete(key)
    }
    return suspect
  }

  const sampleRowLocks = async (): Promise<void> => {
    const [rows] = await connection.query<RowDataPacket[]>(
      `SELECT DISTINCT p.ID AS id, p.QUERY_ID AS query, p.TIME_MS AS ms, p.STATE AS state, LEFT(p.INFO, ${STATEMENT_TEXT}) AS info
         FROM information_schema.INNODB_LOCK_WAITS w
         JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id
         JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id
         JOIN information_schema.PROCESSLIST p ON p.ID = r.trx_mysql_thread_id
        WHERE b.trx_mysql_thread_id IN (?) AND r.trx_mysql_thread_id NOT IN (?)`,
      [holders, excluded],
    )
    report.lockSnapshots++
    for (const row of rows) {
      const key = `${row.id}:${row.query}`
      const entry: Running = running.get(key) ?? { elapsedMs: 0, statement: String(row.info ?? '') }
      entry.elapsedMs = Math.max(entry.elapsedMs, Number(row.ms))
      entry.kind = 'row lock'
      entry.waitState = String(row.state ?? '')
      running.set(key, entry)
    }
  }

  const loop = async (): Promise<void> => {
    let lastSample: number | undefined
    let lastSnapshot = -Infinity
    const maxIterations = Math.ceil(options.maxDurationMs / Math.max(1, intervalMs)) + 1
    for (let i = 0; i < maxIterations && !stopped && performance.now() < deadline; i++) {
      const began = performance.now()
      if (lastSample !== undefined) report.longestSampleGapMs = Math.max(report.longestSampleGapMs, began - lastSample)
      lastSample = began
      const suspect = await sampleStatements()
      report.samples++
      if (suspect && performance.now() - lastSnapshot >= LOCK_SNAPSHOT_MS) {
        await sampleRowLocks()
        lastSnapshot = performance.now()
      }
      const rest = intervalMs - (performance.now() - began)
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest))
    }
  }
  // A failed sample ends the sampling; the bench hears of it when it stops the sampler.
  let failure: unknown
  const done = loop().catch((error: unknown) => {
    failure = error
  })
  let stopping: Promise<StallReport> | undefined
  return {
    markPhase(label) {
      phase = label
    },
    stop() {
      stopped = true
      stopping ??= done.then(() => {
        if (failure !== undefined) throw failure
        for (const entry of running.values()) settle(entry)
        running.clear()
        return report
      })
      return stopping
    },
  }
}
