import { hostname, userInfo } from 'node:os'
import type { RowDataPacket } from 'mysql2/promise'
import { HandoverError } from '../../errors.js'
import { quoteName, type Connection } from '../connection.js'
import type { MigrationScript, ScriptPart } from './scripts/migration-script.js'

export class ScriptChangedError extends HandoverError {
  readonly code = 'SCRIPT_CHANGED'

  constructor(
    readonly script: string,
    readonly appliedChecksum: string,
    readonly fileChecksum: string,
  ) {
    super(
      `${script} was already applied with checksum ${appliedChecksum} but the file now has ${fileChecksum}; ` +
        'an applied script is never edited: put the change in a new script',
    )
  }
}

/** What the executor needs to know and say about statements already run. */
export interface StatementLedger {
  checkUnchanged(script: MigrationScript): Promise<void>
  appliedIndexes(script: MigrationScript, part: ScriptPart): Promise<Set<number>>
  /** Indexes applied, or begun by a run cut off before it knew the outcome: an undo reverses both. */
  touchedIndexes(script: MigrationScript, part: ScriptPart): Promise<Set<number>>
  /**
   * Written before a DDL runs, since the DDL commits by itself and a cut-off run cannot say
   * whether it did. `restorePoint` (what its undo puts back) is kept from the first start:
   * a resumed run that runs the statement again must not take the changed table for the old.
   */
  recordStart(script: MigrationScript, part: ScriptPart, index: number, runId: string, restorePoint?: string): Promise<void>
  /** The restore points of the statements of a part that were run, by index (a failed one's too: its copy of rows is dropped with the rest). */
  restorePoints(script: MigrationScript, part: ScriptPart): Promise<Map<number, string>>
  record(script: MigrationScript, part: ScriptPart, index: number, runId: string, durationMs: number): Promise<void>
  recordFailure(script: MigrationScript, part: ScriptPart, index: number, runId: string, durationMs: number, error: string): Promise<void>
  forget(script: MigrationScript, part: ScriptPart): Promise<void>
  /** One statement counts as not run: its undo is done. */
  forgetStatement(script: MigrationScript, part: ScriptPart, index: number): Promise<void>
}

/**
 * One row per executed statement with the script's checksum, who ran it, when, how long it
 * took and its result: what was applied is never run again, and an applied script that was
 * edited afterwards is refused. A failed statement's row says why until a retry applies it.
 */
export class MigrationHistory implements StatementLedger {
  private readonly table: string

  constructor(
    private readonly connection: Connection,
    journalSchema: string,
    private readonly service: string,
    private readonly operator: string = `${userInfo().username}@${hostname()}`,
  ) {
    this.table = `${quoteName(journalSchema)}.handover_migrations`
  }

  static async ensureTable(connection: Connection, journalSchema: string): Promise<void> {
    await connection.query(`CREATE TABLE IF NOT EXISTS ${quoteName(journalSchema)}.handover_migrations (
      service VARCHAR(64) NOT NULL,
      script VARCHAR(255) NOT NULL,
      part VARCHAR(16) NOT NULL,
      statement_index INT NOT NULL,
      checksum CHAR(64) NOT NULL,
      run_id CHAR(36) NULL,
      applied_at DATETIME(3) NOT NULL,
      duration_ms INT NOT NULL,
      applied_by VARCHAR(128) NOT NULL DEFAULT '',
      result ENUM('applied','failed','started') NOT NULL DEFAULT 'applied',
      error TEXT NULL,
      restore_point MEDIUMTEXT NULL,
      PRIMARY KEY (service, script, part, statement_index)
    ) ENGINE=InnoDB`)
    // Tables created before these columns existed get them.
    await connection.query(`ALTER TABLE ${quoteName(journalSchema)}.handover_migrations
      ADD COLUMN IF NOT EXISTS applied_by VARCHAR(128) NOT NULL DEFAULT '',
      ADD COLUMN IF NOT EXISTS result ENUM('applied','failed') NOT NULL DEFAULT 'applied',
      ADD COLUMN IF NOT EXISTS error TEXT NULL,
      ADD COLUMN IF NOT EXISTS restore_point MEDIUMTEXT NULL,
      MODIFY COLUMN result ENUM('applied','failed','started') NOT NULL DEFAULT 'applied'`)
  }

  /** Refuses a script whose recorded checksum differs from the file's. */
  async checkUnchanged(script: MigrationScript): Promise<void> {
    const [rows] = await this.connection.query<RowDataPacket[]>(
      `SELECT checksum FROM ${this.table} WHERE service = ? AND script = ? AND result = 'applied' LIMIT 1`,
      [this.service, script.name],
    )
    const recorded = rows[0]?.checksum as string | undefined
    if (recorded && recorded !== script.checksum) throw new ScriptChangedError(script.name, recorded, script.checksum)
  }

  async appliedIndexes(script: MigrationScript, part: ScriptPart): Promise<Set<number>> {
    const [rows] = await this.connection.query<RowDataPacket[]>(
      `SELECT statement_index FROM ${this.table} WHERE service = ? AND script = ? AND part = ? AND result = 'applied'`,
      [this.service, script.name, part],
    )
    return new Set(rows.map((row) => Number(row.statement_index)))
  }

  async touchedIndexes(script: MigrationScript, part: ScriptPart): Promise<Set<number>> {
    const [rows] = await this.connection.query<RowDataPacket[]>(
      `SELECT statement_index FROM ${this.table} WHERE service = ? AND script = ? AND part = ? AND result IN ('applied', 'started')`,
      [this.service, script.name, part],
    )
    return new Set(rows.map((row) => Number(row.statement_index)))
  }

  async recordStart(script: MigrationScript, part: ScriptPart, index: number, runId: string, restorePoint?: string): Promise<void> {
    await this.write(script, part, index, runId, 0, null, 'started', restorePoint ?? null)
  }

  async restorePoints(script: MigrationScript, part: ScriptPart): Promise<Map<number, string>> {
    const [rows] = await this.connection.query<RowDataPacket[]>(
      `SELECT statement_index, restore_point FROM ${this.table}
        WHERE service = ? AND script = ? AND part = ? AND restore_point IS NOT NULL`,
      [this.service, script.name, part],
    )
    return new Map(rows.map((row) => [Number(row.statement_index), String(row.restore_point)]))
  }

  async record(script: MigrationScript, part: ScriptPart, index: number, runId: string, durationMs: number): Promise<void> {
    await this.write(script, part, index, runId, durationMs, null)
  }

  async recordFailure(script: MigrationScript, part: ScriptPart, index: number, runId: string, durationMs: number, error: string): Promise<void> {
    await this.write(script, part, index, runId, durationMs, error)
  }

  private async write(
    script: MigrationScript,
    part: ScriptPart,
    index: number,
    runId: string,
    durationMs: number,
    error: string | null,
    result: 'applied' | 'failed' | 'started' = error === null ? 'applied' : 'failed',
    restorePoint: string | null = null,
  ): Promise<void> {
    await this.connection.query(
      `INSERT INTO ${this.table} (service, script, part, statement_index, checksum, run_id, applied_at, duration_ms, applied_by, result, error, restore_point)
       VALUES (?, ?, ?, ?, ?, ?, NOW(3), ?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE restore_point = COALESCE(restore_point, VALUES(restore_point)), checksum = VALUES(checksum), run_id = VALUES(run_id),
         applied_at = VALUES(applied_at), duration_ms = VALUES(duration_ms), applied_by = VALUES(applied_by), result = VALUES(result), error = VALUES(error)`,
      [this.service, script.name, part, index, script.checksum, runId, Math.round(durationMs), this.operator, result, error, restorePoint],
    )
  }

  async forgetStatement(script: MigrationScript, part: ScriptPart, index: number): Promise<void> {
    await this.connection.query(`DELETE FROM ${this.table} WHERE service = ? AND script = ? AND part = ? AND statement_index = ?`, [this.service, script.name, part, index])
  }

  /** After an undo part ran, the forward part it reversed counts as not applied. */
  async forget(script: MigrationScript, part: ScriptPart): Promise<void> {
    await this.connection.query(`DELETE FROM ${this.table} WHERE service = ? AND script = ? AND part = ?`, [
      this.service,
      script.name,
      part,
    ])
  }
}
