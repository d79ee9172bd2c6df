/**
 * A statement that an AbortSignal can stop. A query mysql2 has sent cannot be taken back by
 * the client: the server runs it to the end (a slow ALTER, a long UPDATE) while the caller
 * has long given up. On abort this sends `KILL QUERY <thread id>` from a second connection
 * (the server ends the statement and rolls it back; the connection stays usable) and, since
 * a kill can arrive before the server began the statement, repeats it until the query has
 * settled. The caller's await ends only once the statement has really stopped.
 */
import mysql from 'mysql2/promise'
import type { Connection } from '../connection.js'

const KILL_REPEAT_MS = 500
const KILL_ATTEMPTS = 20

export async function cancellableQuery(connection: Connection, sql: string, signal?: AbortSignal): Promise<unknown> {
  if (signal === undefined) return connection.query(sql)
  signal.throwIfAborted()
  const running = connection.query(sql)
  let killing: Promise<void> | undefined
  const onAbort = (): void => {
    killing = killUntilSettled(connection, running)
  }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await running
  } finally {
    signal.removeEventListener('abort', onAbort)
    await killing
  }
}

async function killUntilSettled(connection: Connection, running: Promise<unknown>): Promise<void> {
  let settled = false
  const done = running.then(
    () => void (settled = true),
    () => void (settled = true),
  )
  let killer: Connection | undefined
  try {
    killer = await siblingOf(connection)
    for (let attempt = 0; attempt < KILL_ATTEMPTS && !settled; attempt++) {
      await killer.query(`KILL QUERY ${Number(connection.threadId)}`)
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, KILL_REPEAT_MS))])
    }
  } catch {
    // Nothing more can be done from here: the statement runs on, and the caller's bound
    // (the phase runner's cancel grace) reports that it did not stop.
  } finally {
    await killer?.end().catch(() => undefined)
  }
}

/** A second connection as the same user to the same server (KILL QUERY needs no privilege for one's own threads). */
function siblingOf(connection: Connection): Promise<Connection> {
  const { host, port, socketPath, user, password, ssl } = connection.config
  return mysql.createConnection({ host, port, user, password, connectTimeout: 5000, ...(socketPath ? { socketPath } : {}), ...(ssl ? { ssl } : {}) })
}
