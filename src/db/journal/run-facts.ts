/**
 * The facts a run reported (protocol/upgrade-facts.ts), kept with it in the journal: one row
 * per fact with the phase it came from, its type and its fields as JSON. `handover status`
 * and `history` print from these rows, so what they show is what the run reported, not a
 * re-reading of today's schema.
 */
import type { RowDataPacket } from 'mysql2/promise'
import { parseUpgradeEvent } from '../../protocol/event-schema.js'
import { isUpgradeFact, type UpgradeFact } from '../../protocol/events.js'
import { quoteName, type Connection } from '../connection.js'

export interface RecordedFact {
  /** The phase that was running (forward or undo) when the fact was reported. */
  phase: string | null
  /** ISO 8601, UTC. */
  at: string
  fact: UpgradeFact
}

export class RunFactTable {
  private readonly table: string

  constructor(
    private readonly connection: Connection,
    schema: string,
  ) {
    this.table = `${quoteName(schema)}.handover_run_facts`
  }

  static async ensure(connection: Connection, schema: string): Promise<void> {
    await connection.query(`CREATE TABLE IF NOT EXISTS ${quoteName(schema)}.handover_run_facts (
      id BIGINT AUTO_INCREMENT PRIMARY KEY,
      run_id CHAR(36) NOT NULL,
      phase VARCHAR(64) NULL,
      type VARCHAR(64) NOT NULL,
      fields TEXT NOT NULL,
      recorded_at DATETIME(3) NOT NULL,
      KEY run (run_id, id)
    ) ENGINE=InnoDB`)
  }

  async record(fact: UpgradeFact, phase: string | undefined): Promise<void> {
    const { type, service: _service, runId, ...fields } = fact
    await this.connection.query(`INSERT INTO ${this.table} (run_id, phase, type, fields, recorded_at) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3))`, [runId, phase ?? null, type, JSON.stringify(fields)])
  }

  /** A run's facts in the order they were reported; a row this version cannot read is skipped, not fatal. */
  async ofRun(runId: string, service: string): Promise<RecordedFact[]> {
    return (await this.ofRuns([runId], service)).get(runId) ?? []
  }

  /** The facts of several runs of one service in one query, by run id. */
  async ofRuns(runIds: readonly string[], service: string): Promise<Map<string, RecordedFact[]>> {
    const byRun = new Map<string, RecordedFact[]>()
    if (runIds.length === 0) return byRun
    const [rows] = await this.connection.query<FactRow[]>(
      `SELECT run_id, phase, type, fields, DATE_FORMAT(recorded_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS at FROM ${this.table} WHERE run_id IN (?) ORDER BY id`,
      [runIds],
    )
    for (const row of rows) {
      const fact = readFact(row, row.run_id, service)
      if (fact === undefined) continue
      const list = byRun.get(row.run_id) ?? []
      list.push({ phase: row.phase, at: row.at.replace(/\.(\d{3})\d*Z$/, '.$1Z'), fact })
      byRun.set(row.run_id, list)
    }
    return byRun
  }
}

interface FactRow extends RowDataPacket {
  run_id: string
  phase: string | null
  type: string
  fields: string
  at: string
}

/** Checked like a report to the agent: a row written by a newer `handover` may hold a type this one does not know. */
function readFact(row: FactRow, runId: string, service: string): UpgradeFact | undefined {
  try {
    const event = parseUpgradeEvent({ ...(JSON.parse(row.fields) as object), type: row.type, service, runId }, `handover_run_facts(${row.type})`)
    return isUpgradeFact(event) ? event : undefined
  } catch {
    return undefined
  }
}
