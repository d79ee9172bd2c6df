import type { RowDataPacket } from 'mysql2/promise'
import { HandoverError } from '../../errors.js'
import type { Connection } from '../connection.js'
import type { StatementApplied } from './migration-executor.js'
import type { MigrationScript } from './scripts/migration-script.js'
import { restoredBy } from './undo/restore-point.js'

/**
 * How long the contract holds requests, estimated before anything runs: the contract runs
 * while the new slot buffers, so every statement in it that scans or copies a table adds
 * its time to every held request's wait. The rehearsal gives each statement's algorithm;
 * the table's size gives the time.
 */
export interface HoldEstimate {
  seconds: number
  statements: HeldStatement[]
}

export interface HeldStatement {
  script: string
  line: number
  table: string
  rows: number
  /** How the statement spends its time: `copies the table`, `scans the table`. */
  how: string
  seconds: number
}

export class HoldTooLongError extends HandoverError {
  readonly code = 'HOLD_TOO_LONG'
}

/**
 * Conservative rates for this kind of host (2 cores, MariaDB 10.11, InnoDB), from the
 * measurements in docs/backfill.md: a blocking table copy, and one UPDATE over a table.
 */
const COPY_ROWS_PER_SECOND = 100_000
const SCAN_ROWS_PER_SECOND = 40_000
const DATA_CHANGE = /^\s*(?:INSERT|UPDATE|DELETE|REPLACE)\b/i

/** `online`: the contract ALTERs rebuilt beside their table during the expand, which the contract only swaps in. */
export async function estimateContractHold(
  connection: Connection,
  schema: string,
  scripts: readonly MigrationScript[],
  rehearsed: readonly StatementApplied[],
  online: readonly { script: string; index: number }[] = [],
): Promise<HoldEstimate> {
  const rows = await tableRows(connection, schema)
  const statements: HeldStatement[] = []
  for (const applied of rehearsed) {
    if (applied.part !== 'contract' || applied.replacedByCapture || applied.softDrop) continue
    if (online.some((spec) => spec.script === applied.script && spec.index === applied.index)) continue
    const statement = script(scripts, applied.script)?.parts.contract[applied.index]
    const table = statement?.classified?.table
    if (!statement || !table) continue
    const count = rows.get(table.toLowerCase()) ?? 0
    const copies = applied.algorithm === 'COPY' || applied.algorithm === 'INPLACE'
    const scans = DATA_CHANGE.test(statement.sql)
    if (!copies && !scans) continue
    // A data change of a script without markers is undone from a copy of the table's rows, taken first.
    const snapshot = scans && !script(scripts, applied.script)?.marked && restoredBy(statement.classified) === 'rows'
    const seconds = count / (copies ? COPY_ROWS_PER_SECOND : SCAN_ROWS_PER_SECOND) + (snapshot ? count / COPY_ROWS_PER_SECOND : 0)
    const how = copies ? `rebuilds the table (${applied.algorithm})` : snapshot ? 'copies the rows for its undo and scans the table' : 'scans the table'
    statements.push({ script: applied.script, line: applied.line, table, rows: count, how, seconds })
  }
  return { seconds: statements.reduce((sum, entry) => sum + entry.seconds, 0), statements }
}

function script(scripts: readonly MigrationScript[], name: string): MigrationScript | undefined {
  return scripts.find((candidate) => candidate.name === name)
}

/** Refuses a contract whose estimated hold is past the buffer's wait: every held request would be answered 503. */
export function checkHold(estimate: HoldEstimate, maxWaitSeconds: number): void {
  if (estimate.seconds <= maxWaitSeconds) return
  throw new HoldTooLongError(holdProblem(estimate, maxWaitSeconds))
}

export function holdProblem(estimate: HoldEstimate, maxWaitSeconds: number): string {
  const worst = [...estimate.statements].sort((a, b) => b.seconds - a.seconds).slice(0, 3)
  const named = worst.map((entry) => `${entry.script}:${entry.line} ${entry.how} ${entry.table} (~${entry.rows.toLocaleString('en')} rows, ~${entry.seconds.toFixed(1)} s)`).join('; ')
  return (
    `the contract would hold requests for about ${estimate.seconds.toFixed(1)} s, longer than proxy.buffer.maxWaitSeconds (${maxWaitSeconds} s): ${named}; ` +
    'move the change into the expand (a backfill there runs online, in chunks) or make the table change one the server does in place'
  )
}

async function tableRows(connection: Connection, schema: string): Promise<Map<string, number>> {
  const [rows] = await connection.query<RowDataPacket[]>('SELECT TABLE_NAME AS name, TABLE_ROWS AS count FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [schema])
  return new Map(rows.map((row) => [String(row.name).toLowerCase(), Number(row.count ?? 0)]))
}
