import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import type { RunResult } from '../../protocol/events.js'
import { quoteName, type Connection } from '../connection.js'
import { RunFactTable } from './run-facts.js'

export interface RunRecord {
  id: string
  service: string
  fromVersion: string
  toVersion: string
  fromImage: string
  toImage: string
  standbySlot: string
  state: 'running' | RunResult
  pointOfNoReturnPassed: boolean
  startedAt: string
  finishedAt: string | null
  errorCode: string | null
  errorMessage: string | null
}

export interface StepRecord {
  phase: string
  action: 'forward' | 'undo'
  status: 'started' | 'completed' | 'failed'
  startedAt: string
  durationMs: number | null
  errorMessage: string | null
}

export type NewRun = Pick<RunRecord, 'id' | 'service' | 'fromVersion' | 'toVersion' | 'fromImage' | 'toImage' | 'standbySlot'>

/**
 * The run journal: one row per run, one row per phase action, written before the action
 * starts and updated when it ends, so a crash leaves a row saying exactly where it stopped.
 */
export class Journal {
  private readonly runsTable: string
  private readonly stepsTable: string
  /** The facts each run reported. */
  readonly facts: RunFactTable

  constructor(
    private readonly connection: Connection,
    schema: string,
  ) {
    this.runsTable = `${quoteName(schema)}.handover_runs`
    this.stepsTable = `${quoteName(schema)}.handover_steps`
    this.facts = new RunFactTable(connection, schema)
  }

  static async ensureTables(connection: Connection, schema: string): Promise<void> {
    await connection.query(`CREATE DATABASE IF NOT EXISTS ${quoteName(schema)}`)
    await connection.query(`CREATE TABLE IF NOT EXISTS ${quoteName(schema)}.handover_runs (
      id CHAR(36) PRIMARY KEY,
      service VARCHAR(64) NOT NULL,
      from_version VARCHAR(64) NOT NULL,
      to_version VARCHAR(64) NOT NULL,
      from_image VARCHAR(255) NOT NULL,
      to_image VARCHAR(255) NOT NULL,
      standby_slot VARCHAR(16) NOT NULL,
      state ENUM('running','succeeded','rolled_back','failed') NOT NULL,
      point_of_no_return_passed BOOLEAN NOT NULL DEFAULT FALSE,
      operator VARCHAR(128) NOT NULL,
      host VARCHAR(255) NOT NULL,
      started_at DATETIME(3) NOT NULL,
      finished_at DATETIME(3) NULL,
      error_code VARCHAR(64) NULL,
      error_message TEXT NULL,
      KEY service_started (service, started_at)
    ) ENGINE=InnoDB`)
    await connection.query(`CREATE TABLE IF NOT EXISTS ${quoteName(schema)}.handover_steps (
      id BIGINT AUTO_INCREMENT PRIMARY KEY,
      run_id CHAR(36) NOT NULL,
      phase VARCHAR(64) NOT NULL,
      action ENUM('forward','undo') NOT NULL,
      status ENUM('started','completed','failed') NOT NULL,
      started_at DATETIME(3) NOT NULL,
      finished_at DATETIME(3) NULL,
      duration_ms INT NULL,
      error_code VARCHAR(64) NULL,
      error_message TEXT NULL,
      KEY run (run_id, id)
    ) ENGINE=InnoDB`)
    await RunFactTable.ensure(connection, schema)
  }

  async startRun(run: NewRun, operator: string, host: string): Promise<void> {
    await this.connection.query(
      `INSERT INTO ${this.runsTable} (id, service, from_version, to_version, from_image, to_image, standby_slot, state, operator, host, started_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, NOW(3))`,
      [run.id, run.service, run.fromVersion, run.toVersion, run.fromImage, run.toImage, run.standbySlot, operator, host],
    )
  }

  async markPointOfNoReturn(runId: string, passed: boolean): Promise<void> {
    await this.connection.query(`UPDATE ${this.runsTable} SET point_of_no_return_passed = ? WHERE id = ?`, [passed, runId])
  }

  async finishRun(runId: string, result: RunResult, error?: { code: string; message: string }): Promise<void> {
    await this.connection.query(
      `UPDATE ${this.runsTable} SET state = ?, finished_at = NOW(3), error_code = ?, error_message = ? WHERE id = ?`,
      [result, error?.code ?? null, error?.message ?? null, runId],
    )
  }

  /** Returns the step id to close with finishStep. */
  async startStep(runId: string, phase: string, action: StepRecord['action']): Promise<number> {
    const [result] = await this.connection.query<ResultSetHeader>(
      `INSERT INTO ${this.stepsTable} (run_id, phase, action, status, started_at) VALUES (?, ?, ?, 'started', NOW(3))`,
      [runId, phase, action],
    )
    return result.insertId
  }

  async finishStep(stepId: number, durationMs: number, error?: { code: string; message: string }): Promise<void> {
    await this.connection.query(
      `UPDATE ${this.stepsTable} SET status = ?, finished_at = NOW(3), duration_ms = ?, error_code = ?, error_message = ? WHERE id = ?`,
      [error ? 'failed' : 'completed', Math.round(durationMs), error?.code ?? null, error?.message ?? null, stepId],
    )
  }

  async lastRun(service: string): Promise<RunRecord | undefined> {
    const [rows] = await this.connection.query<RunRow[]>(
      `SELECT * FROM ${this.runsTable} WHERE service = ? ORDER BY started_at DESC LIMIT 1`,
      [service],
    )
    return rows[0] ? toRunRecord(rows[0]) : undefined
  }

  /** The service's run still marked running: its process died, or it still runs (then it holds the service lock). */
  async unfinishedRun(service: string): Promise<RunRecord | undefined> {
    const [rows] = await this.connection.query<RunRow[]>(
      `SELECT * FROM ${this.runsTable} WHERE service = ? AND state = 'running' ORDER BY started_at DESC LIMIT 1`,
      [service],
    )
    return rows[0] ? toRunRecord(rows[0]) : undefined
  }

  async steps(runId: string): Promise<StepRecord[]> {
    const [rows] = await this.connection.query<StepRow[]>(`SELECT * FROM ${this.stepsTable} WHERE run_id = ? ORDER BY id`, [runId])
    return rows.map((row) => ({
      phase: row.phase,
      action: row.action,
      status: row.status,
      startedAt: row.started_at,
      durationMs: row.duration_ms,
      errorMessage: row.error_message,
    }))
  }
}

interface RunRow extends RowDataPacket {
  id: string
  service: string
  from_version: string
  to_version: string
  from_image: string
  to_image: string
  standby_slot: string
  state: RunRecord['state']
  point_of_no_return_passed: number
  started_at: string
  finished_at: string | null
  error_code: string | null
  error_message: string | null
}

interface StepRow extends RowDataPacket {
  phase: string
  action: StepRecord['action']
  status: StepRecord['status']
  started_at: string
  duration_ms: number | null
  error_message: string | null
}

function toRunRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    service: row.service,
    fromVersion: row.from_version,
    toVersion: row.to_version,
    fromImage: row.from_image,
    toImage: row.to_image,
    standbySlot: row.standby_slot,
    state: row.state,
    pointOfNoReturnPassed: Boolean(row.point_of_no_return_passed),
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    errorCode: row.error_code,
    errorMessage: row.error_message,
  }
}
