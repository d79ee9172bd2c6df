import type { RowDataPacket } from 'mysql2/promise'
import { quoteName, type Connection } from '../../connection.js'
import type { SoftDrop } from './soft-drop.js'

/** Where soft drops are remembered until they are restored (undo) or purged (after the retention). */
export interface SoftDropLedger {
  record(drop: SoftDrop, runId: string): Promise<void>
  /** Drops of one script not yet purged, newest first. */
  ofScript(script: string): Promise<SoftDrop[]>
  forget(drop: SoftDrop): Promise<void>
  /** Drops not purged and older than `hours` (all of them for 0), newest first. */
  purgeable(hours: number): Promise<SoftDrop[]>
  markPurged(drop: SoftDrop): Promise<void>
}

/** The ledger of a real schema: a table in the journal schema, readable by every operator. */
export class SoftDropTable implements SoftDropLedger {
  private readonly table: string

  constructor(
    private readonly connection: Connection,
    journalSchema: string,
    private readonly service: string,
  ) {
    this.table = `${quoteName(journalSchema)}.handover_soft_drops`
  }

  static async ensureTable(connection: Connection, journalSchema: string): Promise<void> {
    await connection.query(`CREATE TABLE IF NOT EXISTS ${quoteName(journalSchema)}.handover_soft_drops (
      id BIGINT AUTO_INCREMENT PRIMARY KEY,
      service VARCHAR(64) NOT NULL,
      run_id CHAR(36) NOT NULL,
      script VARCHAR(255) NOT NULL,
      table_name VARCHAR(64) NOT NULL,
      column_name VARCHAR(64) NULL,
      soft_name VARCHAR(64) NOT NULL,
      definition TEXT NULL,
      dropped_at DATETIME(3) NOT NULL,
      purged_at DATETIME(3) NULL,
      statement_index INT NULL,
      KEY service_script (service, script)
    ) ENGINE=InnoDB`)
    await connection.query(`ALTER TABLE ${quoteName(journalSchema)}.handover_soft_drops ADD COLUMN IF NOT EXISTS statement_index INT NULL`)
  }

  async record(drop: SoftDrop, runId: string): Promise<void> {
    await this.connection.query(
      `INSERT INTO ${this.table} (service, run_id, script, table_name, column_name, soft_name, definition, statement_index, dropped_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NOW(3))`,
      [this.service, runId, drop.script, drop.table, drop.column ?? null, drop.softName, drop.definition ?? null, drop.index ?? null],
    )
  }

  async ofScript(script: string): Promise<SoftDrop[]> {
    return this.select('script = ?', [script])
  }

  async forget(drop: SoftDrop): Promise<void> {
    await this.connection.query(`DELETE FROM ${this.table} WHERE service = ? AND soft_name = ? AND table_name IN (?, ?) AND purged_at IS NULL`, [
      this.service,
      drop.softName,
      drop.table,
      drop.softName,
    ])
  }

  async purgeable(hours: number): Promise<SoftDrop[]> {
    return this.select('dropped_at <= NOW(3) - INTERVAL ? HOUR', [hours])
  }

  async markPurged(drop: SoftDrop): Promise<void> {
    await this.connection.query(`UPDATE ${this.table} SET purged_at = NOW(3) WHERE service = ? AND table_name = ? AND soft_name = ? AND purged_at IS NULL`, [
      this.service,
      drop.table,
      drop.softName,
    ])
  }

  private async select(condition: string, values: unknown[]): Promise<SoftDrop[]> {
    const [rows] = await this.connection.query<RowDataPacket[]>(
      `SELECT script, table_name, column_name, soft_name, definition, statement_index FROM ${this.table} WHERE service = ? AND purged_at IS NULL AND ${condition} ORDER BY id DESC`,
      [this.service, ...values],
    )
    return rows.map((row) => ({
      script: String(row.script),
      table: String(row.table_name),
      softName: String(row.soft_name),
      ...(row.column_name === null ? {} : { column: String(row.column_name) }),
      ...(row.definition === null ? {} : { definition: String(row.definition) }),
      ...(row.statement_index === null ? {} : { index: Number(row.statement_index) }),
    }))
  }
}
