import type { RowDataPacket } from 'mysql2/promise'
import pRetry from 'p-retry'
import { HandoverError, errorMessage } from '../../errors.js'
import { alterCheapest, isAlterTable, withAlgorithm, type AlterAlgorithm } from '../ddl/alter-algorithm.js'
import { cancellableQuery } from '../ddl/cancellable-query.js'
import { indexStatementAsAlter } from '../ddl/index-as-alter.js'
import { quoteName, tableExists, type Connection } from '../connection.js'
import { withoutQueueing } from '../ddl/metadata-lock.js'
import type { BackfillProgressLedger } from '../capture/backfill-progress.js'
import type { CaptureSpec } from '../capture/capture-plan.js'
import { CapturedBackfills, type BackfillRun } from '../capture/captured-backfills.js'
import { DEFAULT_BACKFILL_TUNING, type BackfillReport, type BackfillTuning } from '../capture/chunked-backfill.js'
import { isRebuilt, OnlineRebuilds, planRebuilds, type RebuildSpec } from '../capture/online-rebuild.js'
import type { StatementLedger } from './migration-history.js'
import type { MigrationScript, ScriptPart } from './scripts/migration-script.js'
import type { PartStatement } from './scripts/script-parts.js'
import { tokenizeScript } from './scripts/sql-statements.js'
import { waitForOpenTransactions, type OpenTransaction } from '../ddl/open-transactions.js'
import { restoredBy, restoreTo, takeRestorePoint, type RestorePoint } from './undo/restore-point.js'
import { dropAllSnapshots, dropSnapshot } from './undo/row-snapshot.js'
import type { SoftDropLedger } from './undo/soft-drop-ledger.js'
import { purgeSql, restoreSql, softDropFor, type SoftDrop } from './undo/soft-drop.js'

export class StatementFailedError extends HandoverError {
  readonly code = 'STATEMENT_FAILED'

  constructor(
    readonly script: string,
    readonly line: number,
    readonly part: ScriptPart,
    readonly reason: string,
  ) {
    super(`${script}:${line} (${part}) failed: ${reason}`)
  }
}

export interface StatementApplied {
  script: string
  part: ScriptPart
  index: number
  line: number
  durationMs: number
  skipped: boolean
  /** For an ALTER TABLE: the algorithm it ran with, when known. */
  algorithm?: AlterAlgorithm
  /** The object a contract renamed instead of dropping. */
  softDrop?: SoftDrop
  /** Transactions that were open before this DDL, waited for (bounded). */
  waitedFor?: OpenTransaction[]
  /** For a backfill: how the old version's writes are captured, and its chunks. */
  backfill?: BackfillRun
  /** A contract catch-up that the capture of its backfill made unnecessary. */
  replacedByCapture?: true
  /** A contract ALTER whose table was rebuilt during the expand: only the swap ran. */
  rebuiltOnline?: true
  /** A DDL whose object was already there: a run cut off after it committed and before its history row. */
  alreadyInPlace?: true
  /** Rows the server reported as affected: changed by DML, copied by a rebuilding ALTER. */
  rowsTouched?: number
}

/** What the capture did around a part: keys replayed, triggers and change tables removed, tables rebuilt beside the old. */
export interface CaptureStep {
  part: ScriptPart
  replayed: number
  removed: string[]
  rebuilt?: { table: string; copy: BackfillReport }[]
}

export interface ExecutorOptions {
  connection: Connection
  schema: string
  runId: string
  history: StatementLedger
  softDrops: SoftDropLedger
  backfillProgress: BackfillProgressLedger
  backfillTuning?: BackfillTuning
  /** Rehearsal: try each ALTER's algorithms cheapest first and report which the server took. */
  probeAlgorithms?: boolean
  /** Where copies of rows for a contract's undo go (the journal schema; the schema itself when absent). */
  snapshotStore?: string
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

/**
 * Runs the parts of scripts statement by statement: never a recorded one again, every
 * ALTER with the algorithm the rehearsal found, every contract drop as a rename that an
 * undo can reverse exactly.
 */
export class MigrationExecutor {
  private readonly algorithms = new Map<string, AlterAlgorithm>()
  private readonly backfills: CapturedBackfills
  private readonly rebuilds: OnlineRebuilds

  constructor(private readonly options: ExecutorOptions) {
    this.backfills = new CapturedBackfills({
      connection: options.connection,
      schema: options.schema,
      progress: options.backfillProgress,
      tuning: options.backfillTuning ?? DEFAULT_BACKFILL_TUNING,
    })
    this.rebuilds = new OnlineRebuilds(options.connection, options.schema, options.backfillProgress, options.backfillTuning ?? DEFAULT_BACKFILL_TUNING)
  }

  /**
   * The contract ALTERs rebuilt online during the expand. Known only once the rehearsal has
   * told each ALTER's algorithm (useAlgorithms); the rehearsal itself runs them as written.
   */
  async plannedRebuilds(scripts: readonly MigrationScript[]): Promise<RebuildSpec[]> {
    if (this.options.probeAlgorithms || this.algorithms.size === 0) return []
    return planRebuilds(this.options.connection, this.options.schema, scripts, (script, index) => this.algorithms.get(statementKey(script, 'contract', index)))
  }

  /** The algorithm each ALTER got in the rehearsal: the real run asks for the same. */
  useAlgorithms(rehearsed: readonly Pick<StatementApplied, 'script' | 'part' | 'index' | 'algorithm'>[]): void {
    for (const statement of rehearsed) {
      if (statement.algorithm) this.algorithms.set(statementKey(statement.script, statement.part, statement.index), statement.algorithm)
    }
  }

  /**
   * Runs a part of every script, in order. The contract starts by finishing the capture of
   * the expand's backfills (nothing writes then); the expand ends with a catch-up of the
   * keys the old version wrote meanwhile. `signal` stops the part: no statement starts
   * after it aborts, and a running one is killed.
   */
  async applyPart(
    scripts: readonly MigrationScript[],
    part: ScriptPart,
    onApplied?: (event: StatementApplied) => void,
    signal?: AbortSignal,
    onCapture?: (step: CaptureStep) => void,
  ): Promise<void> {
    const { connection, schema, history } = this.options
    await connection.query(`USE ${quoteName(schema)}`)
    await connection.query(`SET SESSION lock_wait_timeout = ${DDL_LOCK_WAIT_SECONDS}`)
    const rebuilds = part === 'contract' ? await this.plannedRebuilds(scripts) : []
    if (part === 'contract') {
      const finished = await this.backfills.finish(scripts)
      onCapture?.({ part, ...finished })
    }
    for (const script of scripts) {
      await history.checkUnchanged(script)
      const done = await history.appliedIndexes(script, part)
      for (let index = 0; index < script.parts[part].length; index++) {
        signal?.throwIfAborted()
        const applied = done.has(index)
          ? { script: script.name, part, index, line: script.parts[part][index]!.line, durationMs: 0, skipped: true }
          : await this.applyStatement(scripts, script, part, index, signal, rebuilds)
        onApplied?.(applied)
      }
    }
    if (part === 'expand') {
      const replayed = await this.backfills.catchUp(scripts)
      const rebuilt = await this.prepareRebuilds(scripts, signal)
      onCapture?.({ part, replayed, removed: [], rebuilt })
    }
  }

  /**
   * Reverses `forward` for each script that ran it, newest script first: soft-dropped
   * objects get their names back, then the script's `undo` part runs; both parts are then
   * forgotten so a later run starts clean.
   */
  async undoPart(scripts: readonly MigrationScript[], forward: ScriptPart, undo: ScriptPart, onApplied?: (event: StatementApplied) => void, signal?: AbortSignal): Promise<void> {
    const { history, softDrops, connection, schema } = this.options
    // Undo statements name tables as the scripts do; an abort or a resumed rollback comes here first.
    await connection.query(`USE ${quoteName(schema)}`)
    // The capture triggers name the columns the expand added: they go before those columns do.
    if (forward === 'expand') {
      await this.backfills.remove(scripts)
      await this.rebuilds.removeAll()
    }
    for (const script of [...scripts].reverse()) {
      const drops = await softDrops.ofScript(script.name)
      const touched = await history.touchedIndexes(script, forward)
      const restorable = forward === 'contract' ? (await history.restorePoints(script, forward)).size : 0
      if (touched.size === 0 && drops.length === 0 && restorable === 0) continue
      if (forward === 'contract' && !script.marked) {
        await this.undoContractByStatement(script, touched, drops, onApplied, signal)
      } else {
        for (const drop of drops) await this.restoreSoftDrop(script, undo, drop, signal)
        // A contract made only of rebuilt tables is undone exactly by swapping them back; its
        // undo part would copy each table again while requests are held.
        if (!onlyRebuilt(script, drops)) await this.applyPart([script], undo, onApplied, signal)
      }
      await history.forget(script, forward)
      await history.forget(script, undo)
    }
  }

  /**
   * The contract of a script without markers, undone statement by statement, newest first:
   * a soft drop gets its name back, a change of definition gets the table's definition from
   * before it (its restore point), an expand change that ran in the contract its own undo.
   * Each runs only for a statement that ran, and running it again changes nothing.
   */
  private async undoContractByStatement(script: MigrationScript, touched: Set<number>, drops: SoftDrop[], onApplied?: (event: StatementApplied) => void, signal?: AbortSignal): Promise<void> {
    const { connection, schema, history } = this.options
    // Drops recorded without their statement (by an older version) go first, as they always did.
    for (const drop of drops.filter((drop) => drop.index === undefined)) await this.restoreSoftDrop(script, 'contract-undo', drop, signal)
    const points = await history.restorePoints(script, 'contract')
    // A statement with a restore point is undone even if recorded as failed: a resumed run that
    // ran again a DDL the killed one had committed fails on it, and restoring a table as it was
    // changes nothing.
    const indexes = new Set([...touched, ...points.keys(), ...drops.flatMap((drop) => (drop.index === undefined ? [] : [drop.index]))])
    for (const index of [...indexes].sort((a, b) => b - a)) {
      const statement = script.parts.contract[index]
      if (!statement) continue
      const started = performance.now()
      const ran: string[] = []
      const run = async (sql: string): Promise<void> => {
        await this.withRetry(script, 'contract-undo', statement.line, async () => void (await cancellableQuery(connection, sql, signal)), signal)
        ran.push(sql)
      }
      for (const drop of drops.filter((drop) => drop.index === index)) await this.restoreSoftDrop(script, 'contract-undo', drop, signal)
      const point = points.has(index) ? (JSON.parse(points.get(index)!) as RestorePoint) : undefined
      if (point) {
        await restoreTo(connection, schema, point, run).catch((error: unknown) => {
          if (error instanceof StatementFailedError) throw error
          throw new StatementFailedError(script.name, statement.line, 'contract-undo', errorMessage(error))
        })
      } else if (statement.classified?.deferredBy !== undefined && statement.classified.undo) {
        for (const sql of undoSql(statement.classified.undo)) await run(sql)
      }
      // Each statement is forgotten as soon as it is undone: an undo cut off and run again
      // goes on from the next one instead of undoing this one over what came after.
      await history.forgetStatement(script, 'contract', index)
      for (const rows of point?.rows ?? []) await dropSnapshot(connection, rows)
      if (ran.length) onApplied?.({ script: script.name, part: 'contract-undo', index, line: statement.line, durationMs: performance.now() - started, skipped: false })
    }
  }

  private async restoreSoftDrop(script: MigrationScript, undo: ScriptPart, drop: SoftDrop, signal?: AbortSignal): Promise<void> {
    const { connection, schema, softDrops } = this.options
    const restore = isRebuilt(drop) ? () => this.rebuilds.swapBack(drop) : () => cancellableQuery(connection, restoreSql(schema, drop), signal).then(() => undefined)
    await this.withRetry(script, undo, 0, restore, signal)
    await softDrops.forget(drop)
  }

  /** Drops the copies of rows contract statements were undone with: a finished run needs none, and they hold the service's data. */
  async dropRowSnapshots(): Promise<string[]> {
    return dropAllSnapshots(this.options.connection, this.options.snapshotStore ?? this.options.schema, this.options.schema)
  }

  /** Drops for real what contracts renamed, once they are older than the retention. */
  async purgeSoftDrops(retentionHours: number): Promise<SoftDrop[]> {
    const { softDrops, connection, schema } = this.options
    const purged = await softDrops.purgeable(retentionHours)
    for (const drop of purged) {
      await connection.query(purgeSql(schema, drop))
      await softDrops.markPurged(drop)
    }
    return purged
  }

  /**
   * A data change commits together with its history row, so a run cut off at any moment
   * runs it exactly once. A DDL commits by itself: it is recorded right after it returns.
   */
  private async applyStatement(scripts: readonly MigrationScript[], script: MigrationScript, part: ScriptPart, index: number, signal?: AbortSignal, rebuilds: RebuildSpec[] = []): Promise<StatementApplied> {
    const { history, runId } = this.options
    const statement = script.parts[part][index]!
    const rebuild = rebuilds.find((spec) => spec.script === script.name && spec.index === index)
    if (rebuild && (await this.rebuildReady(rebuild))) return this.swapRebuilt(script, index, rebuild)
    if (part === 'contract' && statement.catchUpOf !== undefined) {
      const spec = await this.backfills.specFor(scripts, script.name, statement.catchUpOf)
      if (spec && spec.mode !== 'uncaptured') {
        await history.record(script, part, index, runId, 0)
        return { script: script.name, part, index, line: statement.line, durationMs: 0, skipped: false, replacedByCapture: true }
      }
    }
    const spec = part === 'expand' ? await this.backfills.specFor(scripts, script.name, index) : undefined
    if (spec) return this.applyBackfill(script, index, spec, signal)
    return this.applyPlain(script, part, index, signal)
  }

  /** Builds every planned rebuild's shadow during the expand, while the old version serves. */
  private async prepareRebuilds(scripts: readonly MigrationScript[], signal?: AbortSignal): Promise<{ table: string; copy: BackfillReport }[]> {
    const done: { table: string; copy: BackfillReport }[] = []
    for (const spec of await this.plannedRebuilds(scripts)) done.push({ table: spec.table, copy: await this.rebuilds.prepare(spec, signal) })
    return done
  }

  /** A shadow to swap in, or a swap that happened in a run cut off before recording it. */
  private async rebuildReady(spec: RebuildSpec): Promise<boolean> {
    const { connection, schema } = this.options
    return (await tableExists(connection, schema, spec.shadow)) || (await tableExists(connection, schema, spec.old))
  }

  /**
   * In the contract: the rebuilt table swapped in, the old one kept for an undo until
   * finalize. The ledger row is written before the RENAME, so a run cut off in between can
   * still swap back (or, resumed, finishes the swap).
   */
  private async swapRebuilt(script: MigrationScript, index: number, spec: RebuildSpec): Promise<StatementApplied> {
    const { history, runId, softDrops } = this.options
    const started = performance.now()
    const recorded = (await softDrops.ofScript(script.name)).find((drop) => drop.softName === spec.old)
    const swap = await this.rebuilds.prepareSwap(spec)
    const prepared = recorded ?? (swap ? { ...swap, index } : undefined)
    if (prepared && !recorded) await softDrops.record(prepared, runId)
    if (prepared) await this.rebuilds.completeSwap(spec, prepared)
    await history.record(script, 'contract', index, runId, performance.now() - started)
    const applied: StatementApplied = { script: script.name, part: 'contract', index, line: script.parts.contract[index]!.line, durationMs: performance.now() - started, skipped: false, rebuiltOnline: true }
    return prepared ? { ...applied, softDrop: prepared } : applied
  }

  /** A backfill: its capture installed first, then run in chunks (or whole, on a table without a key). */
  private async applyBackfill(script: MigrationScript, index: number, spec: CaptureSpec, signal?: AbortSignal): Promise<StatementApplied> {
    const { history, runId } = this.options
    const statement = script.parts.expand[index]!
    const started = performance.now()
    const record = (): Promise<void> => history.record(script, 'expand', index, runId, performance.now() - started)
    let backfill: BackfillRun | undefined
    await this.withRetry(script, 'expand', statement.line, async () => {
      backfill = await this.backfills.run(spec, async () => void (await this.changeDataAndRecord(statement.sql, record, signal)), record, signal)
    }, signal).catch(async (error: unknown) => {
      await history.recordFailure(script, 'expand', index, runId, performance.now() - started, errorMessage(error))
      throw error
    })
    return { script: script.name, part: 'expand', index, line: statement.line, durationMs: performance.now() - started, skipped: false, ...(backfill ? { backfill } : {}) }
  }

  private async applyPlain(script: MigrationScript, part: ScriptPart, index: number, signal?: AbortSignal): Promise<StatementApplied> {
    const { connection, schema, history, runId, probeAlgorithms } = this.options
    const statement = script.parts[part][index]!
    const found = part === 'contract' ? await softDropFor(connection, schema, script.name, statement.classified) : undefined
    const soft = found ? { ...found, drop: { ...found.drop, index } } : undefined
    const written = soft?.sql ?? statement.sql
    // A contract change of definition is undone by putting the definition back, a data change
    // by bringing the rows back to a copy: both taken before it runs. A change of definition
    // runs strictly, so a value that does not fit fails it instead of changing.
    const restoreBy = part === 'contract' && !soft && !script.marked ? restoredBy(statement.classified) : undefined
    const restorable = restoreBy === 'definition'
    const place = { store: this.options.snapshotStore ?? schema, script: script.name, index }
    const restorePoint = restoreBy ? JSON.stringify(await takeRestorePoint(connection, schema, statement.classified!, place)) : undefined
    const sql = indexStatementAsAlter(written) ?? written
    const dataChange = DATA_CHANGE.test(sql)
    const waitedFor = dataChange || probeAlgorithms ? [] : await waitForOpenTransactions(connection, OPEN_TRANSACTION_WAIT_MS)
    let algorithm = isAlterTable(sql) ? this.algorithms.get(statementKey(script.name, part, index)) : undefined
    let inPlace = false
    let rowsTouched: number | undefined
    const started = performance.now()
    if (!dataChange || restorePoint) await history.recordStart(script, part, index, runId, restorePoint)
    if (restorable) await connection.query("SET @handover_sql_mode = @@SESSION.sql_mode, SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')")
    await this.withRetry(script, part, statement.line, async () => {
      if (dataChange) return void (rowsTouched = await this.changeDataAndRecord(sql, () => history.record(script, part, index, runId, performance.now() - started), signal))
      if (probeAlgorithms && isAlterTable(sql)) algorithm = await alterCheapest(connection, sql)
      // In the expand the service is writing: a quick DDL must not queue its writes behind it
      // (a long in-place one would lose its whole build each time its final lock is refused).
      else {
        const ddl = algorithm ? withAlgorithm(sql, algorithm) : sql
        const quick = part === 'expand' && (algorithm === 'INSTANT' || algorithm === 'NOCOPY')
        const run = quick ? withoutQueueing(connection, () => cancellableQuery(connection, ddl, signal), signal) : cancellableQuery(connection, ddl, signal)
        await run.then((result) => void (rowsTouched = affectedRows(result))).catch(async (error: unknown) => {
          if (probeAlgorithms || !(await alreadyInPlace(connection, schema, statement.classified, error))) throw error
          inPlace = true
        })
      }
    }, signal).catch(async (error: unknown) => {
      await history.recordFailure(script, part, index, runId, performance.now() - started, errorMessage(error))
      throw error
    }).finally(async () => {
      if (restorable) await connection.query('SET SESSION sql_mode = @handover_sql_mode')
    })
    const durationMs = performance.now() - started
    if (soft) await this.options.softDrops.record(soft.drop, runId)
    if (!dataChange) await history.record(script, part, index, runId, durationMs)
    return {
      script: script.name,
      part,
      index,
      line: statement.line,
      durationMs,
      skipped: false,
      ...(algorithm ? { algorithm } : {}),
      ...(soft ? { softDrop: soft.drop } : {}),
      ...(waitedFor.length ? { waitedFor } : {}),
      ...(inPlace ? { alreadyInPlace: true as const } : {}),
      ...(rowsTouched === undefined ? {} : { rowsTouched }),
    }
  }

  /** Returns the rows the statement affected, when the server said. */
  private async changeDataAndRecord(sql: string, record: () => Promise<void>, signal?: AbortSignal): Promise<number | undefined> {
    const { connection } = this.options
    await connection.beginTransaction()
    try {
      const rows = affectedRows(await cancellableQuery(connection, sql, signal))
      await record()
      await connection.commit()
      return rows
    } catch (error) {
      await connection.rollback()
      throw error
    }
  }

  private async withRetry(script: MigrationScript, part: ScriptPart, line: number, work: () => Promise<void>, signal?: AbortSignal): Promise<void> {
    try {
      await pRetry(work, { retries: DDL_ATTEMPTS - 1, minTimeout: 200, factor: 2, shouldRetry: ({ error }) => isLockContention(error), ...(signal ? { signal } : {}) })
    } catch (error) {
      throw new StatementFailedError(script.name, line, part, errorMessage(error))
    }
  }
}

/** MariaDB's answers to adding what exists: a column, a key, a table. */
const ALREADY_THERE = new Map([
  ['add-column', 1060],
  ['add-index', 1061],
  ['create-table', 1050],
])

/**
 * Whether a statement made only of additions (columns, keys, a table) failed because all of
 * them are there: it ran in a run cut off before its history row was written (a DDL commits
 * by itself, and a failed one changes nothing, so every addition must be found).
 */
async function alreadyInPlace(connection: Connection, schema: string, classified: PartStatement['classified'], error: unknown): Promise<boolean> {
  const errno = (error as { errno?: number }).errno
  if (!classified || classified.clauses.length === 0 || ![...ALREADY_THERE.values()].includes(errno ?? 0)) return false
  for (const clause of classified.clauses) {
    if (!ALREADY_THERE.has(clause.kind)) return false
    const [rows] = await connection.query<RowDataPacket[]>(
      clause.kind === 'create-table'
        ? 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?'
        : clause.kind === 'add-column'
          ? 'SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?'
          : 'SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = ?',
      [schema, clause.table, clause.kind === 'add-column' ? clause.column : clause.index],
    )
    if (rows.length === 0) return false
  }
  return true
}

/** mysql2 answers a statement with [ResultSetHeader, fields]; a multi-statement or SELECT answer has no single count. */
function affectedRows(result: unknown): number | undefined {
  const header = Array.isArray(result) ? (result[0] as { affectedRows?: unknown } | undefined) : undefined
  return typeof header?.affectedRows === 'number' ? header.affectedRows : undefined
}

function undoSql(undo: string): string[] {
  return tokenizeScript(undo).flatMap((token) => (token.kind === 'statement' ? [token.statement.sql] : []))
}

function onlyRebuilt(script: MigrationScript, drops: readonly SoftDrop[]): boolean {
  const rebuilt = drops.filter(isRebuilt).length
  const statements = script.parts.contract.filter((statement) => statement.catchUpOf === undefined).length
  return rebuilt > 0 && rebuilt === statements
}

function statementKey(script: string, part: ScriptPart, index: number): string {
  return `${script}\u0000${part}\u0000${index}`
}

function isLockContention(error: unknown): boolean {
  const errno = (error as { errno?: number }).errno
  return errno === LOCK_WAIT_TIMEOUT_ERRNO || errno === LOCK_DEADLOCK_ERRNO
}
