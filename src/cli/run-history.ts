/**
 * Past runs of a service, read from the journal's handover_runs (src/db/journal.ts writes it)
 * with who ran them, for `handover history` and `handover status`.
 */
import type { RowDataPacket } from 'mysql2/promise'
import { quoteName, type Connection } from '../db/connection.js'
import { RunFactTable } from '../db/journal/run-facts.js'
import type { HistoryRunJson, StatusStepJson } from './json-output.js'
import { summarizeFacts } from './run-summary.js'

interface RunRow extends RowDataPacket {
  id: string
  from_version: string
  to_version: string
  from_image: string
  to_image: string
  state: HistoryRunJson['result']
  point_of_no_return_passed: number
  operator: string
  host: string
  started_at: string
  finished_at: string | null
  duration_ms: number | null
  error_code: string | null
  error_message: string | null
}

/** Newest first, at most `limit`. */
export async function readRunHistory(db: Connection, journalSchema: string, service: string, limit: number): Promise<HistoryRunJson[]> {
  const [rows] = await db.query<RunRow[]>(
    `SELECT id, from_version, to_version, from_image, to_image, state, point_of_no_return_passed, operator, host,
            ${utc('started_at')} AS started_at, ${utc('finished_at')} AS finished_at,
            TIMESTAMPDIFF(MICROSECOND, started_at, finished_at) / 1000 AS duration_ms,
            error_code, error_message
       FROM ${quoteName(journalSchema)}.handover_runs WHERE service = ? ORDER BY started_at DESC, id LIMIT ?`,
    [service, limit],
  )
  const facts = await new RunFactTable(db, journalSchema).ofRuns(rows.map((row) => row.id), service)
  return rows.map((row) => toHistoryRun(row, summarizeFacts(facts.get(row.id) ?? [])))
}

/** The journal writes NOW(3) in the session's zone; scripts get UTC. */
function utc(column: string): string {
  return `DATE_FORMAT(CONVERT_TZ(${column}, @@session.time_zone, '+00:00'), '%Y-%m-%dT%H:%i:%s.%fZ')`
}

function toHistoryRun(row: RunRow, summary: HistoryRunJson['summary']): HistoryRunJson {
  return {
    id: row.id,
    fromVersion: row.from_version,
    toVersion: row.to_version,
    fromImage: row.from_image,
    toImage: row.to_image,
    startedAt: isoMillis(row.started_at),
    finishedAt: row.finished_at === null ? null : isoMillis(row.finished_at),
    durationSeconds: row.duration_ms === null ? null : Number(row.duration_ms) / 1000,
    result: row.state,
    pointOfNoReturnPassed: Boolean(row.point_of_no_return_passed),
    operator: row.operator,
    host: row.host,
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? '' },
    summary,
  }
}

/** MariaDB's %f is microseconds; JSON readers expect milliseconds. */
function isoMillis(text: string): string {
  return text.replace(/\.(\d{3})\d*Z$/, '.$1Z')
}

interface StepRow extends RowDataPacket {
  phase: string
  action: StatusStepJson['action']
  status: StatusStepJson['status']
  started_at: string
  duration_ms: number | null
  error_message: string | null
}

/** A run's phase actions in the order they ran. */
export async function readRunSteps(db: Connection, journalSchema: string, runId: string): Promise<StatusStepJson[]> {
  const [rows] = await db.query<StepRow[]>(
    `SELECT phase, action, status, ${utc('started_at')} AS started_at, duration_ms, error_message
       FROM ${quoteName(journalSchema)}.handover_steps WHERE run_id = ? ORDER BY id`,
    [runId],
  )
  return rows.map((row) => ({
    phase: row.phase,
    action: row.action,
    status: row.status,
    startedAt: isoMillis(row.started_at),
    durationSeconds: row.duration_ms === null ? null : row.duration_ms / 1000,
    errorMessage: row.error_message,
  }))
}
