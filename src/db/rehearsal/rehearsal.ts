import { randomBytes } from 'node:crypto'
import type { RowDataPacket } from 'mysql2/promise'
import { HandoverError } from '../../errors.js'
import { quoteName, type Connection } from '../connection.js'
import { MigrationExecutor, StatementFailedError, type StatementApplied } from '../migrations/migration-executor.js'
import type { MigrationScript, ScriptPart } from '../migrations/scripts/migration-script.js'
import { RehearsalBackfillProgress } from '../capture/backfill-progress.js'
import { RehearsalHistory, RehearsalSoftDrops } from './rehearsal-ledgers.js'
import { openRehearsalSession, REHEARSAL_PREFIX, type RehearsalSession } from './rehearsal-user.js'

export class RehearsalFailedError extends HandoverError {
  readonly code = 'REHEARSAL_FAILED'

  constructor(
    readonly script: string,
    readonly line: number,
    readonly part: ScriptPart,
    reason: string,
  ) {
    super(`rehearsal on a copy of the schema: ${script}:${line} (${part}) fails: ${reason}; nothing real was changed`)
  }
}

export type RehearsedStatement = StatementApplied

/**
 * Runs the whole chain against a structure-only copy of the schema with the executor the
 * real run uses (soft drops included): expand, contract, then the undo of both in rollback
 * order. A statement that fails, or a rollback that would, is found before anything real
 * changes, and every ALTER's algorithm is known before it runs for real. The scripts run as
 * a user granted only the copy, so none of them can reach the live schema whatever it
 * names. The copy and its user are always removed.
 */
export async function rehearse(
  connection: Connection,
  schema: string,
  scripts: readonly MigrationScript[],
  signal?: AbortSignal,
  /** Runs on the copy, as its user, once the chain has run forward (the version write of finalize). */
  afterForward?: (copy: string, connection: Connection) => Promise<void>,
): Promise<RehearsedStatement[]> {
  const copy = `${REHEARSAL_PREFIX}${randomBytes(4).toString('hex')}`
  const rehearsed: RehearsedStatement[] = []
  const record = (applied: StatementApplied): void => void rehearsed.push(applied)
  let session: RehearsalSession | undefined
  try {
    await copyStructure(connection, schema, copy)
    session = await openRehearsalSession(connection, copy)
    const executor = new MigrationExecutor({ connection: session.connection, schema: copy, runId: 'rehearsal', history: new RehearsalHistory(), softDrops: new RehearsalSoftDrops(), backfillProgress: new RehearsalBackfillProgress(), probeAlgorithms: true })
    await executor.applyPart(scripts, 'expand', record, signal)
    await executor.applyPart(scripts, 'contract', record, signal)
    await afterForward?.(copy, session.connection)
    // A script that cannot be rolled back is refused for that reason, by plan and preflight;
    // rehearsing its missing undo would only fail later with a misleading statement.
    if (scripts.some((script) => script.undoProblems.length > 0)) return rehearsed
    await executor.undoPart(scripts, 'contract', 'contract-undo', record, signal)
    await executor.undoPart(scripts, 'expand', 'expand-undo', record, signal)
    return rehearsed
  } catch (error) {
    if (error instanceof StatementFailedError) throw new RehearsalFailedError(error.script, error.line, error.part, error.reason)
    throw error
  } finally {
    await session?.close()
    await connection.query(`DROP DATABASE IF EXISTS ${quoteName(copy)}`)
    await connection.query('SET SESSION foreign_key_checks = 1')
  }
}

/** Tables only, no rows: SHOW CREATE TABLE replayed in the copy, foreign keys included. */
async function copyStructure(connection: Connection, schema: string, copy: string): Promise<void> {
  await connection.query(`CREATE DATABASE ${quoteName(copy)}`)
  const [tables] = await connection.query<RowDataPacket[]>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'",
    [schema],
  )
  await connection.query(`USE ${quoteName(copy)}`)
  // Tables referencing each other by foreign key can then be created in any order.
  await connection.query('SET SESSION foreign_key_checks = 0')
  for (const { name } of tables) {
    const [rows] = await connection.query<RowDataPacket[]>(`SHOW CREATE TABLE ${quoteName(schema)}.${quoteName(String(name))}`)
    await connection.query(String(rows[0]!['Create Table']))
  }
  await connection.query('SET SESSION foreign_key_checks = 1')
}
