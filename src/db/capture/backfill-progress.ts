import type { RowDataPacket } from 'mysql2/promise'
import { quoteName, type Connection } from '../connection.js'

/** Where a chunked backfill stands: the last key it finished, so a resumed run goes on from there. */
export interface BackfillProgress {
  lastKey: unknown[] | undefined
  rows: number
  chunks: number
}

/**
 * The per-chunk journal of backfills. `save` runs inside the chunk's own transaction (same
 * connection), so a chunk and its progress commit together or not at all.
 */
export interface BackfillProgressLedger {
  read(script: string, index: number): Promise<BackfillProgress>
  save(script: string, index: number, progress: BackfillProgress): Promise<void>
  clear(script: string, index: number): Promise<void>
}

export class BackfillProgressTable implements BackfillProgressLedger {
  private readonly table: string

  constructor(
    private readonly connection: Connection,
    journalSchema: string,
    private readonly service: string,
  ) {
    this.table = `${quoteName(journalSchema)}.handover_backfill_progress`
  }

  static async ensureTable(connection: Connection, journalSchema: string): Promise<void> {
    await connection.query(`CREATE TABLE IF NOT EXISTS ${quoteName(journalSchema)}.handover_backfill_progress (
      service VARCHAR(64) NOT NULL,
      script VARCHAR(255) NOT NULL,
      statement_index INT NOT NULL,
      last_key TEXT NULL,
      rows_done BIGINT NOT NULL DEFAULT 0,
      chunks INT NOT NULL DEFAULT 0,
      updated_at DATETIME(3) NOT NULL,
      PRIMARY KEY (service, script, statement_index)
    ) ENGINE=InnoDB`)
  }

  async read(script: string, index: number): Promise<BackfillProgress> {
    const [rows] = await this.connection.query<RowDataPacket[]>(
      `SELECT last_key, rows_done, chunks FROM ${this.table} WHERE service = ? AND script = ? AND statement_index = ?`,
      [this.service, script, index],
    )
    const row = rows[0]
    if (!row) return { lastKey: undefined, rows: 0, chunks: 0 }
    return { lastKey: row.last_key === null ? undefined : (JSON.parse(String(row.last_key)) as unknown[]), rows: Number(row.rows_done), chunks: Number(row.chunks) }
  }

  async save(script: string, index: number, progress: BackfillProgress): Promise<void> {
    await this.connection.query(
      `INSERT INTO ${this.table} (service, script, statement_index, last_key, rows_done, chunks, updated_at) VALUES (?, ?, ?, ?, ?, ?, NOW(3))
       ON DUPLICATE KEY UPDATE last_key = VALUES(last_key), rows_done = VALUES(rows_done), chunks = VALUES(chunks), updated_at = VALUES(updated_at)`,
      [this.service, script, index, progress.lastKey === undefined ? null : JSON.stringify(progress.lastKey), progress.rows, progress.chunks],
    )
  }

  async clear(script: string, index: number): Promise<void> {
    await this.connection.query(`DELETE FROM ${this.table} WHERE service = ? AND script = ? AND statement_index = ?`, [this.service, script, index])
  }
}

/** The rehearsal's: on a throw-away copy nothing needs to outlive the process. */
export class RehearsalBackfillProgress implements BackfillProgressLedger {
  private readonly entries = new Map<string, BackfillProgress>()

  async read(script: string, index: number): Promise<BackfillProgress> {
    return this.entries.get(`${script}/${index}`) ?? { lastKey: undefined, rows: 0, chunks: 0 }
  }

  async save(script: string, index: number, progress: BackfillProgress): Promise<void> {
    this.entries.set(`${script}/${index}`, progress)
  }

  async clear(script: string, index: number): Promise<void> {
    this.entries.delete(`${script}/${index}`)
  }
}
