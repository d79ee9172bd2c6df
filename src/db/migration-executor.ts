import pRetry from 'p-retry'
import { HandoverError, errorMessage } from '../errors.js'
import { withAlgorithm, type AlterAlgorithm } from './alter-algorithm.js'
import { quoteName, type Connection } from './connection.js'
import type { MigrationHistory } from './migration-history.js'
import type { MigrationScript, ScriptPart } from './migration-script.js'
import { waitForOpenTransactions, type OpenTransaction } from './open-transactions.js'
import type { RehearsedStatement } from './rehearsal.js'

export class StatementFailedError extends HandoverError {
  readonly code = 'STATEMENT_FAILED'

  constructor(
    readonly script: string,
    readonly line: number,
    readonly part: ScriptPart,
    reason: string,
  ) {
    super(`${script}:${line} (${part}) failed: ${reason}`)
  }
}

export interface StatementApplied {
  script: string
  part: ScriptPart
  index: number
  durationMs: number
  skipped: boolean
  /** Transactions that were open before this DDL, waited for (bounded). */
  waitedFor?: OpenTransaction[]
}

const LOCK_WAIT_TIMEOUT_ERRNO = 1205
const LOCK_DEADLOCK_ERRNO = 1213
/**
 * An ALTER waiting for its metadata lock queues every later query on the table behind it,
 * so it must give up quickly and try again rather than wait MariaDB's default of a day.
 */
const DDL_LOCK_WAIT_SECONDS = 2
const DDL_ATTEMPTS = 6
const OPEN_TRANSACTION_WAIT_MS = 10_000
const DATA_CHANGE = /^\s*(?:INSERT|UPDATE|DELETE|REPLACE)\b/i

/** Runs one part of each script, statement by statement, never re-running a recorded one. */
export class MigrationExecutor {
  private readonly algorithms = new Map<string, AlterAlgorithm>()

  constructor(
    private readonly connection: Connection,
    private readonly history: MigrationHistory,
    private readonly schema: string,
    private readonly runId: string,
  ) {}

  /** The algorithm each ALTER got in the rehearsal: the real run asks for the same. */
  useAlgorithms(rehearsed: readonly RehearsedStatement[]): void {
    for (const statement of rehearsed) {
      if (statement.algorithm) this.algorithms.set(statementKey(statement.script, statement.part, statement.index), statement.algorithm)
    }
  }

  async applyPart(scripts: readonly MigrationScript[], part: ScriptPart, onApplied?: (event: StatementApplied) => void): Promise<void> {
    await this.connection.query(`USE ${quoteName(this.schema)}`)
    await this.connection.query(`SET SESSION lock_wait_timeout = ${DDL_LOCK_WAIT_SECONDS}`)
    for (const script of scripts) {
      await this.history.checkUnchanged(script)
      const done = await this.history.appliedIndexes(script, part)
      for (let index = 0; index < script.parts[part].length; index++) {
        if (done.has(index)) {
          onApplied?.({ script: script.name, part, index, durationMs: 0, skipped: true })
          continue
        }
        const applied = await this.applyStatement(script, part, index)
        onApplied?.(applied)
      }
    }
  }

  /**
   * Runs `undo` of each script in reverse order, then forgets both parts so a later run
   * starts from a clean history for these scripts.
   */
  async undoPart(scripts: readonly MigrationScript[], forward: ScriptPart, undo: ScriptPart): Promise<void> {
    const reversed = [...scripts].reverse()
    for (const script of reversed) {
      if ((await this.history.appliedIndexes(script, forward)).size === 0) continue
      await this.applyPart([script], undo)
      await this.history.forget(script, forward)
      await this.history.forget(script, undo)
    }
  }

  /**
   * A data change commits together with its history row, so a run cut off at any moment
   * runs it exactly once. A DDL commits by itself: it is recorded right after it returns.
   */
  private async applyStatement(script: MigrationScript, part: ScriptPart, index: number): Promise<StatementApplied> {
    const statement = script.parts[part][index]!
    const algorithm = this.algorithms.get(statementKey(script.name, part, index))
    const sql = algorithm ? withAlgorithm(statement.sql, algorithm) : statement.sql
    const dataChange = DATA_CHANGE.test(sql)
    const waitedFor = dataChange ? [] : await waitForOpenTransactions(this.connection, OPEN_TRANSACTION_WAIT_MS)
    const started = performance.now()
    await this.withRetry(script, part, statement.line, async () => {
      if (!dataChange) return void (await this.connection.query(sql))
      await this.connection.beginTransaction()
      try {
        await this.connection.query(sql)
        await this.history.record(script, part, index, this.runId, performance.now() - started)
        await this.connection.commit()
      } catch (error) {
        await this.connection.rollback()
        throw error
      }
    })
    const durationMs = performance.now() - started
    if (!dataChange) await this.history.record(script, part, index, this.runId, durationMs)
    return { script: script.name, part, index, durationMs, skipped: false, ...(waitedFor.length ? { waitedFor } : {}) }
  }

  private async withRetry(script: MigrationScript, part: ScriptPart, line: number, work: () => Promise<void>): Promise<void> {
    try {
      await pRetry(work, { retries: DDL_ATTEMPTS - 1, minTimeout: 200, factor: 2, shouldRetry: ({ error }) => isLockContention(error) })
    } catch (error) {
      throw new StatementFailedError(script.name, line, part, errorMessage(error))
    }
  }
}

function statementKey(script: string, part: ScriptPart, index: number): string {
  return `${script}\u0000${part}\u0000${index}`
}

function isLockContention(error: unknown): boolean {
  const errno = (error as { errno?: number }).errno
  return errno === LOCK_WAIT_TIMEOUT_ERRNO || errno === LOCK_DEADLOCK_ERRNO
}
