import type { RowDataPacket } from 'mysql2/promise'
import type { AlterAlgorithm } from '../ddl/alter-algorithm.js'
import { quoteName, type Connection } from '../connection.js'
import type { StatementApplied } from '../migrations/migration-executor.js'
import type { ScriptPart } from '../migrations/scripts/script-parts.js'

export type RehearsedAlgorithm = Pick<StatementApplied, 'script' | 'part' | 'index' | 'algorithm'>

/**
 * The algorithm the preflight's rehearsal found for each ALTER of a run, kept with the run:
 * a resumed run cannot rehearse again (its schema is already half changed), yet its expand
 * must ask for the same algorithms and its contract must know which tables were rebuilt
 * online, or it would copy them while requests are held.
 */
export class RunAlgorithmTable {
  private readonly table: string

  constructor(
    private readonly connection: Connection,
    schema: string,
  ) {
    this.table = `${quoteName(schema)}.handover_run_algorithms`
  }

  static async ensureTable(connection: Connection, schema: string): Promise<void> {
    await connection.query(`CREATE TABLE IF NOT EXISTS ${quoteName(schema)}.handover_run_algorithms (
      run_id CHAR(36) NOT NULL,
      script VARCHAR(255) NOT NULL,
      part VARCHAR(32) NOT NULL,
      statement_index INT NOT NULL,
      algorithm VARCHAR(16) NOT NULL,
      PRIMARY KEY (run_id, script, part, statement_index)
    ) ENGINE=InnoDB`)
  }

  /** Replaces what an earlier try of the same run's preflight saved. */
  async save(runId: string, rehearsed: readonly RehearsedAlgorithm[]): Promise<void> {
    await this.connection.query(`DELETE FROM ${this.table} WHERE run_id = ?`, [runId])
    const rows = rehearsed.filter((statement) => statement.algorithm).map((s) => [runId, s.script, s.part, s.index, s.algorithm])
    if (rows.length) await this.connection.query(`INSERT INTO ${this.table} (run_id, script, part, statement_index, algorithm) VALUES ?`, [rows])
  }

  async load(runId: string): Promise<RehearsedAlgorithm[]> {
    const [rows] = await this.connection.query<AlgorithmRow[]>(`SELECT script, part, statement_index, algorithm FROM ${this.table} WHERE run_id = ? ORDER BY script, part, statement_index`, [runId])
    return rows.map((row) => ({ script: row.script, part: row.part, index: row.statement_index, algorithm: row.algorithm }))
  }
}

interface AlgorithmRow extends RowDataPacket {
  script: string
  part: ScriptPart
  statement_index: number
  algorithm: AlterAlgorithm
}
