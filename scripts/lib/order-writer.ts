/**
 * The old version of an orders app, as far as its writes go: workers on their own
 * connections insert orders, update the amount (and customer) of old and new ones, delete
 * some, and run a few long transactions, and remember only what the server acknowledged.
 * Each row has at most one write in flight, so the last acknowledged value is the one the
 * database must hold. Bounded in time and count.
 */
import mysql, { type ResultSetHeader } from 'mysql2/promise'
import { quantileOfSorted } from './quantile.js'

export interface OrderState {
  amount: string
  customerId: number
}

export interface WriterReport {
  inserts: number
  updates: number
  deletes: number
  longTransactions: number
  /** The acknowledged state of every row the writer knows; null for a deleted one. */
  expected: Map<number, OrderState | null>
  /** Writes acknowledged since markPhase() was last called, by its label. */
  writesByPhase: Record<string, number>
  /** The slowest acknowledged single-statement write, in ms. */
  longestWriteMs: number
  /** Per phase label: acknowledged writes' p50, p99 and max latency, in ms. */
  latencyByPhase: Record<string, { count: number; p50: number; p99: number; max: number; over100ms: number }>
  /**
   * Per phase label: the longest stretch in which no write of any worker completed, in ms,
   * from the phase's start to its end. A stall of the whole host stops every worker at once;
   * a lock stops only the workers that touch its rows.
   */
  longestGapByPhase: Record<string, number>
  errors: string[]
}

export interface OrderWriter {
  /** Counts the writes from now on under `label`. */
  markPhase(label: string): void
  written(): number
  stop(): Promise<WriterReport>
}

export interface WriterOptions {
  schema: string
  password: string
  /** The rows already in the table and their state (seeded by the test). */
  seeded: Map<number, OrderState>
  customers: number
  workers?: number
  maxWrites?: number
  maxDurationMs?: number
  /** Share of updates that change customer_id instead of the amount. */
  customerChangeRatio?: number
  /** Share of writes that are a 300 ms transaction of two updates (default 0.02). */
  longTransactionRatio?: number
}

export async function startOrderWriter(options: WriterOptions): Promise<OrderWriter> {
  const pool = mysql.createPool({ host: '127.0.0.1', user: 'handover', password: options.password, database: options.schema, connectionLimit: (options.workers ?? 4) + 1 })
  const expected = new Map<number, OrderState | null>(options.seeded)
  const ids = [...options.seeded.keys()]
  const busy = new Set<number>()
  const report: WriterReport = { inserts: 0, updates: 0, deletes: 0, longTransactions: 0, expected, writesByPhase: {}, longestWriteMs: 0, latencyByPhase: {}, longestGapByPhase: {}, errors: [] }
  const latencies = new Map<string, number[]>()
  const maxWrites = options.maxWrites ?? 200_000
  const deadline = Date.now() + (options.maxDurationMs ?? 120_000)
  let phase = 'start'
  let stopped = false
  let writes = 0
  let lastCompletion = performance.now()

  /** Ends the current stretch without completions at `now` (a completion, or the phase's end). */
  const closeGap = (now: number): void => {
    report.longestGapByPhase[phase] = Math.max(report.longestGapByPhase[phase] ?? 0, now - lastCompletion)
    lastCompletion = now
  }

  /** Counts an acknowledged write; its latency only for single statements (a long transaction waits on purpose). */
  const acknowledged = (started: number, timed = true): void => {
    const now = performance.now()
    closeGap(now)
    writes++
    report.writesByPhase[phase] = (report.writesByPhase[phase] ?? 0) + 1
    if (!timed) return
    const took = now - started
    report.longestWriteMs = Math.max(report.longestWriteMs, took)
    const list = latencies.get(phase)
    if (list) list.push(took)
    else latencies.set(phase, [took])
  }
  const pickRow = (): number | undefined => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const id = ids[Math.floor(Math.random() * ids.length)]
      if (id !== undefined && !busy.has(id) && expected.get(id) !== null) return id
    }
    return undefined
  }
  const amount = (): string => (Math.floor(Math.random() * 100_000) / 100).toFixed(2)
  const customer = (): number => 1 + Math.floor(Math.random() * options.customers)

  const step = async (connection: mysql.PoolConnection): Promise<void> => {
    const roll = Math.random()
    const started = performance.now()
    if (roll < 0.2) {
      const state = { amount: amount(), customerId: customer() }
      const [result] = await connection.query<ResultSetHeader>('INSERT INTO orders (amount, customer_id) VALUES (?, ?)', [state.amount, state.customerId])
      expected.set(result.insertId, state)
      ids.push(result.insertId)
      report.inserts++
      return acknowledged(started)
    }
    const id = pickRow()
    if (id === undefined) return
    busy.add(id)
    try {
      if (roll < 0.25) {
        await connection.query('DELETE FROM orders WHERE id = ?', [id])
        expected.set(id, null)
        report.deletes++
      } else if (roll < 0.25 + (options.longTransactionRatio ?? 0.02)) {
        await longTransaction(connection, id)
        return acknowledged(started, false)
      } else {
        const before = expected.get(id)!
        const changeCustomer = Math.random() < (options.customerChangeRatio ?? 0)
        const state = changeCustomer ? { ...before, customerId: customer() } : { ...before, amount: amount() }
        await connection.query('UPDATE orders SET amount = ?, customer_id = ? WHERE id = ?', [state.amount, state.customerId, id])
        expected.set(id, state)
        report.updates++
      }
      acknowledged(started)
    } finally {
      busy.delete(id)
    }
  }

  /** Two updates of one row 300 ms apart in one transaction: the row stays locked meanwhile. */
  const longTransaction = async (connection: mysql.PoolConnection, id: number): Promise<void> => {
    const state = { ...expected.get(id)!, amount: amount() }
    await connection.beginTransaction()
    try {
      await connection.query('UPDATE orders SET amount = amount + 1 WHERE id = ?', [id])
      await new Promise((resolve) => setTimeout(resolve, 300))
      await connection.query('UPDATE orders SET amount = ? WHERE id = ?', [state.amount, id])
      await connection.commit()
    } catch (error) {
      await connection.rollback()
      throw error
    }
    expected.set(id, state)
    report.longTransactions++
  }

  const worker = async (): Promise<void> => {
    const connection = await pool.getConnection()
    try {
      while (!stopped && writes < maxWrites && Date.now() < deadline) {
        await step(connection).catch((error: unknown) => {
          if (report.errors.length < 20) report.errors.push(String((error as Error).message ?? error))
        })
      }
    } finally {
      connection.release()
    }
  }
  const running = Promise.all(Array.from({ length: options.workers ?? 4 }, worker))
  let stopping: Promise<WriterReport> | undefined
  return {
    markPhase(label) {
      closeGap(performance.now())
      phase = label
    },
    written: () => writes,
    stop() {
      if (!stopped) closeGap(performance.now())
      stopped = true
      stopping ??= running.then(() => pool.end()).then(() => {
        for (const [label, values] of latencies) {
          const sorted = values.sort((a, b) => a - b)
          const over100ms = sorted.filter((value) => value > 100).length
          report.latencyByPhase[label] = { count: sorted.length, p50: quantileOfSorted(sorted, 0.5), p99: quantileOfSorted(sorted, 0.99), max: sorted[sorted.length - 1]!, over100ms }
        }
        return report
      })
      return stopping
    },
  }
}
