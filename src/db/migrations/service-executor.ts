import type { DatabaseConfig } from '../../config/config.js'
import { quoteName, type Connection } from '../connection.js'
import { BackfillProgressTable } from '../capture/backfill-progress.js'
import type { BackfillTuning } from '../capture/chunked-backfill.js'
import { MigrationExecutor } from './migration-executor.js'
import { MigrationHistory } from './migration-history.js'
import { SoftDropTable } from './undo/soft-drop-ledger.js'

/** The executor of a real service: history and soft drops kept in the journal schema. */
export function serviceExecutor(connection: Connection, database: DatabaseConfig, service: string, runId: string, backfillTuning?: BackfillTuning): MigrationExecutor {
  return new MigrationExecutor({
    backfillProgress: new BackfillProgressTable(connection, database.journalSchema, service),
    ...(backfillTuning ? { backfillTuning } : {}),
    connection,
    schema: database.schema,
    runId,
    history: new MigrationHistory(connection, database.journalSchema, service),
    softDrops: new SoftDropTable(connection, database.journalSchema, service),
    snapshotStore: database.journalSchema,
  })
}

/** The tool's migration tables, created when missing. */
export async function ensureMigrationTables(connection: Connection, journalSchema: string): Promise<void> {
  await connection.query(`CREATE DATABASE IF NOT EXISTS ${quoteName(journalSchema)}`)
  await MigrationHistory.ensureTable(connection, journalSchema)
  await SoftDropTable.ensureTable(connection, journalSchema)
  await BackfillProgressTable.ensureTable(connection, journalSchema)
}
