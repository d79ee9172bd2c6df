import type { RowDataPacket } from 'mysql2/promise'
import type { Connection } from '../connection.js'

export interface OpenTransaction {
  thread: number
  ageSeconds: number
  user: string
}

const POLL_MS = 200

/**
 * A DDL needs a brief exclusive metadata lock; a transaction that has the table open holds
 * it off, and every query arriving meanwhile queues behind the waiting DDL. So before a DDL,
 * wait (bounded) for transactions older than a second to end, and say which ones were open.
 * The server does not say which tables a transaction holds without extra plugins, so any
 * long transaction counts. Without the PROCESS privilege the check is skipped: the DDL's
 * own short lock wait and retries still bound the stall.
 */
export async function waitForOpenTransactions(connection: Connection, maxWaitMs: number): Promise<OpenTransaction[]> {
  const deadline = Date.now() + maxWaitMs
  let open = await listOpenTransactions(connection)
  const seen = open
  while (open.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    open = await listOpenTransactions(connection)
  }
  return seen
}

async function listOpenTransactions(connection: Connection): Promise<OpenTransaction[]> {
  try {
    const [rows] = await connection.query<RowDataPacket[]>(
      `SELECT t.trx_mysql_thread_id AS thread, TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS age, COALESCE(p.USER, '') AS user
         FROM information_schema.innodb_trx t
         LEFT JOIN information_schema.processlist p ON p.ID = t.trx_mysql_thread_id
        WHERE t.trx_mysql_thread_id <> CONNECTION_ID() AND t.trx_started < NOW() - INTERVAL 1 SECOND`,
    )
    return rows.map((row) => ({ thread: Number(row.thread), ageSeconds: Number(row.age), user: String(row.user) }))
  } catch {
    return []
  }
}
