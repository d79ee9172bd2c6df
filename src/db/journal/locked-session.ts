import type { HandoverConfig } from '../../config/config.js'
import { connect, type Connection } from '../connection.js'
import { Journal } from './journal.js'
import { ensureMigrationTables } from '../migrations/service-executor.js'
import { RunAlgorithmTable } from './run-algorithms.js'
import { ServiceLock } from './service-lock.js'

/**
 * Runs `work` holding the service's named lock, with the tool's tables in place. The lock
 * lives on its own connection so that nothing the work does to its connection (a failed
 * statement, a long DDL) can release it early.
 */
export async function withServiceLock<T>(config: HandoverConfig, work: (db: Connection) => Promise<T>): Promise<T> {
  const db = await connect(config.database)
  let lockConnection: Connection | undefined
  try {
    lockConnection = await connect(config.database)
    await Journal.ensureTables(db, config.database.journalSchema)
    await ensureMigrationTables(db, config.database.journalSchema)
    await RunAlgorithmTable.ensureTable(db, config.database.journalSchema)
    const lock = await ServiceLock.acquire(lockConnection, config.service.name)
    try {
      return await work(db)
    } finally {
      await lock.release()
    }
  } finally {
    await db.end()
    await lockConnection?.end()
  }
}
