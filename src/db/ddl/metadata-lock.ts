import type { RowDataPacket } from 'mysql2/promise'
import type { Connection } from '../connection.js'

const LOCK_WAIT_TIMEOUT_ERRNO = 1205
/**
 * How long a DDL keeps trying for a gap in the table's traffic before it waits in the queue
 * like any DDL: a service whose long transactions overlap leaves no gap at all.
 */
const GAP_BUDGET_MS = 3_000
const RETRY_MIN_MS = 5
const RETRY_SPREAD_MS = 20

/**
 * Runs a DDL (CREATE TRIGGER, an instant ALTER) on a table the service is writing to
 * without ever queueing behind it. A DDL waiting for its metadata lock blocks every later
 * query of the table until it gets the lock, so one long transaction of the service would
 * stall all of the service's writes for as long. With lock_wait_timeout = 0 the DDL fails at
 * once instead, and is tried again a few milliseconds later, until it lands in a moment
 * when no transaction holds the table. Only after the budget does it wait.
 */
export async function withoutQueueing<T>(connection: Connection, ddl: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const [rows] = await connection.query<RowDataPacket[]>('SELECT @@SESSION.lock_wait_timeout AS seconds')
  const previous = Number(rows[0]!.seconds)
  const deadline = performance.now() + GAP_BUDGET_MS
  await connection.query('SET SESSION lock_wait_timeout = 0')
  try {
    while (performance.now() < deadline) {
      signal?.throwIfAborted()
      try {
        return await ddl()
      } catch (error) {
        if ((error as { errno?: number }).errno !== LOCK_WAIT_TIMEOUT_ERRNO) throw error
        await new Promise((resolve) => setTimeout(resolve, RETRY_MIN_MS + Math.random() * RETRY_SPREAD_MS))
      }
    }
  } finally {
    await connection.query(`SET SESSION lock_wait_timeout = ${previous}`)
  }
  return ddl()
}
