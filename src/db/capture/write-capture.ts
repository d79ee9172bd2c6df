import type { RowDataPacket } from 'mysql2/promise'
import { HandoverError } from '../../errors.js'
import { quoteName, type Connection } from '../connection.js'
import { withoutQueueing } from '../ddl/metadata-lock.js'
import { CAPTURE_TRIGGER_PREFIX, CHANGE_TABLE_PREFIX, changeTableName, type CaptureSpec } from './capture-plan.js'
import { columnFacts } from './column-facts.js'
import { keyIn, keyList } from './key-sql.js'
import { OWN_WRITES_VARIABLE, rowTriggerBody } from './row-trigger-sql.js'
import type { TableKey } from './table-key.js'

export { OWN_WRITES_VARIABLE } from './row-trigger-sql.js'

export class CaptureFailedError extends HandoverError {
  readonly code = 'CAPTURE_FAILED'
}

/** Keys a replay batch takes while the service writes (short locks), and once nothing writes (few round trips). */
const REPLAY_BATCH_ROWS = 500
const QUIESCENT_BATCH_ROWS = 5_000
const LOCK_ERRNOS = new Set([1205, 1213])
const MAX_DROP_ATTEMPTS = 6
const MAX_BATCH_ATTEMPTS = 20
/** Where a row trigger records a backfill that failed on a row the old version wrote. */
const ERRORS_PREFIX = `${CHANGE_TABLE_PREFIX}err_`

/**
 * The triggers and change tables that carry the old version's writes into what backfills
 * computed. Every step checks what exists first, so running it again after a crash does
 * only what is missing; all of it is found by name, not by memory.
 */
export class WriteCapture {
  constructor(
    private readonly connection: Connection,
    private readonly schema: string,
  ) {}

  /** Installs the capture of one backfill; for `changed-keys`, the table's change table and its triggers. */
  async install(spec: CaptureSpec, key: TableKey | undefined): Promise<void> {
    if (spec.mode === 'row-trigger') return this.installRowTriggers(spec)
    if (spec.mode === 'changed-keys' && key) return this.installChangedKeys(spec.table, key)
  }

  /**
   * Replays the backfills of one table for the rows the old version wrote since, batch by
   * batch, until fewer than `leave` keys remain (0: all) or, when given, the deadline.
   * Returns the rows replayed.
   */
  async replayChangedKeys(specs: readonly CaptureSpec[], key: TableKey, leave = 0, deadlineMs = Infinity): Promise<number> {
    const changes = this.changeTable(specs[0]!.table)
    if (!(await this.exists(changeTableName(specs[0]!.table)))) return 0
    const facts = await columnFacts(this.connection, this.schema, specs[0]!.table)
    // A column with no default (NOT NULL without one) cannot go back: it keeps its value.
    const resets = [...new Set(specs.flatMap((spec) => spec.resets))].filter((column) => facts.get(column.toLowerCase())?.defaultSql !== undefined)
    const until = performance.now() + deadlineMs
    let replayed = 0
    await this.connection.query(`SET ${OWN_WRITES_VARIABLE} = 1`)
    try {
      for (let round = 0; round < 1_000_000; round++) {
        const [pending] = await this.connection.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${changes}`)
        if (Number(pending[0]!.n) <= leave || performance.now() > until) break
        replayed += await this.replayBatchWithRetry(specs, key, changes, resets, leave === 0 ? QUIESCENT_BATCH_ROWS : REPLAY_BATCH_ROWS)
      }
    } finally {
      await this.connection.query(`SET ${OWN_WRITES_VARIABLE} = NULL`)
    }
    return replayed
  }

  /** Refuses to go on when a row trigger could not apply a backfill to a row the old version wrote. */
  async checkRecordedErrors(): Promise<void> {
    const [tables] = await this.connection.query<RowDataPacket[]>('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ?', [
      this.schema,
      `${likePrefix(ERRORS_PREFIX)}%`,
    ])
    for (const { name } of tables) {
      const [rows] = await this.connection.query<RowDataPacket[]>(`SELECT message, COUNT(*) AS n FROM ${quoteName(this.schema)}.${quoteName(String(name))} GROUP BY message ORDER BY n DESC LIMIT 3`)
      if (rows.length === 0) continue
      const seen = rows.map((row) => `${String(row.message)} (${row.n} rows)`).join('; ')
      throw new CaptureFailedError(
        `a backfill could not be applied to rows the old version wrote during the expand: ${seen}; the backfill would fail on them too: fix the script (or the data) and upgrade again`,
      )
    }
  }

  /** Drops every capture trigger, then every change and error table, of the schema. */
  async removeAll(): Promise<string[]> {
    const [triggers] = await this.connection.query<RowDataPacket[]>(
      'SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME LIKE ?',
      [this.schema, `${likePrefix(CAPTURE_TRIGGER_PREFIX)}%`],
    )
    for (const { name } of triggers) await this.dropWithRetry(`DROP TRIGGER IF EXISTS ${quoteName(this.schema)}.${quoteName(String(name))}`)
    const [tables] = await this.connection.query<RowDataPacket[]>(
      'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ?',
      [this.schema, `${likePrefix(CHANGE_TABLE_PREFIX)}%`],
    )
    for (const { name } of tables) await this.dropWithRetry(`DROP TABLE IF EXISTS ${quoteName(this.schema)}.${quoteName(String(name))}`)
    return [...triggers, ...tables].map((row) => String(row.name))
  }

  /**
   * A drop needs the table's metadata lock: a transaction the old version left open a moment
   * longer (a slow shutdown on a loaded host) makes it wait past lock_wait_timeout, so it is
   * taken again, a bounded number of times.
   */
  private async dropWithRetry(sql: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.connection.query(sql)
        return
      } catch (error) {
        if (!LOCK_ERRNOS.has((error as { errno?: number }).errno ?? 0) || attempt >= MAX_DROP_ATTEMPTS) throw error
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt))
      }
    }
  }

  /** A batch that lost a deadlock to the service is simply taken again. */
  private async replayBatchWithRetry(specs: readonly CaptureSpec[], key: TableKey, changes: string, resets: string[], rows: number): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.replayBatch(specs, key, changes, resets, rows)
      } catch (error) {
        if (!LOCK_ERRNOS.has((error as { errno?: number }).errno ?? 0) || attempt >= MAX_BATCH_ATTEMPTS) throw error
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt))
      }
    }
  }

  /**
   * One batch, in one transaction, taking locks in the service's own order: the table's rows
   * first (the service's write locks its row, then its trigger the change row), the change
   * rows last. The keys are read without a lock, under READ COMMITTED (no gap locks that would
   * hold the service's inserts of new keys); a key written again meanwhile is inserted again
   * after the delete commits and replayed in a later batch.
   */
  private async replayBatch(specs: readonly CaptureSpec[], key: TableKey, changes: string, resets: string[], rows: number): Promise<number> {
    const names = keyList(key)
    const table = `${quoteName(this.schema)}.${quoteName(specs[0]!.table)}`
    await this.connection.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED')
    await this.connection.beginTransaction()
    try {
      const [found] = await this.connection.query<RowDataPacket[]>(`SELECT ${names} FROM ${changes} ORDER BY ${names} LIMIT ${rows}`)
      const keys = found.map((row) => key.columns.map((column) => row[column.name]))
      if (keys.length > 0) {
        const where = keyIn(key, keys)
        await this.connection.query(`SELECT 1 FROM ${table} WHERE ${where.sql} ORDER BY ${names} FOR UPDATE`, where.values)
        if (resets.length) await this.connection.query(`UPDATE ${table} SET ${resets.map((column) => `${quoteName(column)} = DEFAULT`).join(', ')} WHERE ${where.sql}`, where.values)
        for (const spec of specs) {
          const chunking = spec.shape.chunking!
          const condition = chunking.condition ? `(${chunking.condition}\n) AND ` : ''
          await this.connection.query(`${chunking.head} WHERE ${condition}${where.sql}`, where.values)
        }
        await this.connection.query(`DELETE FROM ${changes} WHERE ${where.sql}`, where.values)
      }
      await this.connection.commit()
      return keys.length
    } catch (error) {
      await this.connection.rollback()
      throw error
    }
  }

  private async installRowTriggers(spec: CaptureSpec): Promise<void> {
    if (!spec.shape.perRow) return
    const errors = `${quoteName(this.schema)}.${quoteName(`${ERRORS_PREFIX}${spec.id}`)}`
    await this.connection.query(`CREATE TABLE IF NOT EXISTS ${errors} (message VARCHAR(500) NOT NULL) ENGINE=InnoDB`)
    const body = rowTriggerBody(spec.shape, spec.resets, await columnFacts(this.connection, this.schema, spec.table), errors)
    // The UPDATE trigger first: a row inserted with the new columns computed while updates
    // were not yet captured would be skipped by a backfill guarded by `WHERE new IS NULL`.
    for (const [suffix, event] of [['u', 'UPDATE'], ['i', 'INSERT']] as const) {
      await withoutQueueing(this.connection, () =>
        this.connection.query(`CREATE TRIGGER IF NOT EXISTS ${this.triggerName(spec.id, suffix)} BEFORE ${event} ON ${quoteName(this.schema)}.${quoteName(spec.table)} FOR EACH ROW\n${body}`),
      )
    }
  }

  private async installChangedKeys(table: string, key: TableKey): Promise<void> {
    const changes = this.changeTable(table)
    const columns = key.columns.map((column) => `${quoteName(column.name)} ${column.type}${column.collation ? ` COLLATE ${column.collation}` : ''} NOT NULL`)
    await this.connection.query(`CREATE TABLE IF NOT EXISTS ${changes} (${columns.join(', ')}, PRIMARY KEY (${keyList(key)})) ENGINE=InnoDB`)
    const id = changeTableName(table).slice(CHANGE_TABLE_PREFIX.length)
    const values = key.columns.map((column) => `NEW.${quoteName(column.name)}`).join(', ')
    for (const [suffix, event] of [['ku', 'UPDATE'], ['ki', 'INSERT']] as const) {
      await withoutQueueing(this.connection, () =>
        this.connection.query(
          `CREATE TRIGGER IF NOT EXISTS ${this.triggerName(id, suffix)} AFTER ${event} ON ${quoteName(this.schema)}.${quoteName(table)} FOR EACH ROW\n` +
            `IF ${OWN_WRITES_VARIABLE} IS NULL THEN INSERT IGNORE INTO ${changes} (${keyList(key)}) VALUES (${values}); END IF`,
        ),
      )
    }
  }

  private changeTable(table: string): string {
    return `${quoteName(this.schema)}.${quoteName(changeTableName(table))}`
  }

  private triggerName(id: string, suffix: string): string {
    return `${quoteName(this.schema)}.${quoteName(`${CAPTURE_TRIGGER_PREFIX}${id}_${suffix}`)}`
  }

  private async exists(table: string): Promise<boolean> {
    const [rows] = await this.connection.query<RowDataPacket[]>('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [this.schema, table])
    return rows.length > 0
  }
}

function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (ch) => `\\${ch}`)
}
