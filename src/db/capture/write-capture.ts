import type { RowDataPacket } from 'mysql2/promise'
import { quoteName, type Connection } from '../connection.js'
import { withoutQueueing } from '../metadata-lock.js'
import { CAPTURE_TRIGGER_PREFIX, CHANGE_TABLE_PREFIX, changeTableName, type CaptureSpec } from './capture-plan.js'
import { keyIn, keyList } from './key-sql.js'
import type { TableKey } from './table-key.js'

/**
 * The session variable handover's own backfill and replay statements set: the capture
 * triggers leave those writes alone (a backfill chunk would otherwise put every row of the
 * table in the change table, and compute each row twice).
 */
export const OWN_WRITES_VARIABLE = '@handover_backfill'

const REPLAY_BATCH_ROWS = 500

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
   * Replays the backfills of one table for the rows the old version wrote since: the
   * recorded keys are taken in batches, each batch's columns reset and every backfill
   * applied to them in order, and the keys deleted, in one transaction. Stops when fewer
   * than `leave` keys remain (0: all) or, when given, at the deadline. Returns the rows replayed.
   */
  async replayChangedKeys(specs: readonly CaptureSpec[], key: TableKey, leave = 0, deadlineMs = Infinity): Promise<number> {
    const until = performance.now() + deadlineMs
    const changes = this.changeTable(specs[0]!.table)
    if (!(await this.exists(changeTableName(specs[0]!.table)))) return 0
    const resets = [...new Set(specs.flatMap((spec) => spec.resets))]
    let replayed = 0
    await this.connection.query(`SET ${OWN_WRITES_VARIABLE} = 1`)
    try {
      for (let round = 0; round < 1_000_000; round++) {
        const [pending] = await this.connection.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${changes}`)
        if (Number(pending[0]!.n) <= leave || performance.now() > until) break
        replayed += await this.replayBatch(specs, key, changes, resets)
      }
    } finally {
      await this.connection.query(`SET ${OWN_WRITES_VARIABLE} = NULL`)
    }
    return replayed
  }

  async pendingChanges(table: string): Promise<number> {
    if (!(await this.exists(changeTableName(table)))) return 0
    const [rows] = await this.connection.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${this.changeTable(table)}`)
    return Number(rows[0]!.n)
  }

  /** Drops every capture trigger, then every change table, of the schema. */
  async removeAll(): Promise<string[]> {
    const [triggers] = await this.connection.query<RowDataPacket[]>(
      'SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME LIKE ?',
      [this.schema, `${likePrefix(CAPTURE_TRIGGER_PREFIX)}%`],
    )
    for (const { name } of triggers) await this.connection.query(`DROP TRIGGER IF EXISTS ${quoteName(this.schema)}.${quoteName(String(name))}`)
    const [tables] = await this.connection.query<RowDataPacket[]>(
      'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ?',
      [this.schema, `${likePrefix(CHANGE_TABLE_PREFIX)}%`],
    )
    for (const { name } of tables) await this.connection.query(`DROP TABLE IF EXISTS ${quoteName(this.schema)}.${quoteName(String(name))}`)
    return [...triggers, ...tables].map((row) => String(row.name))
  }

  private async replayBatch(specs: readonly CaptureSpec[], key: TableKey, changes: string, resets: string[]): Promise<number> {
    const names = keyList(key)
    await this.connection.beginTransaction()
    try {
      const [rows] = await this.connection.query<RowDataPacket[]>(`SELECT ${names} FROM ${changes} ORDER BY ${names} LIMIT ${REPLAY_BATCH_ROWS} FOR UPDATE`)
      const keys = rows.map((row) => key.columns.map((column) => row[column.name]))
      if (keys.length > 0) {
        const where = keyIn(key, keys)
        const table = `${quoteName(this.schema)}.${quoteName(specs[0]!.table)}`
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
    const defaults = await this.columnDefaults(spec.table, spec.resets)
    const resets = spec.resets.flatMap((column) => {
      const value = defaults.get(column.toLowerCase())
      return value === undefined ? [] : [`SET NEW.${quoteName(column)} = ${value};`]
    })
    const assign = `SET ${spec.shape.assignments.map((a) => `NEW.${quoteName(a.column)} = (${a.expression}\n)`).join(',\n')};`
    const apply = spec.shape.condition ? `IF (${spec.shape.condition}\n) THEN\n${assign}\nEND IF;` : assign
    const body = `IF ${OWN_WRITES_VARIABLE} IS NULL THEN\n${[...resets, apply].join('\n')}\nEND IF`
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
    for (const [suffix, event] of [['ki', 'INSERT'], ['ku', 'UPDATE']] as const) {
      await withoutQueueing(this.connection, () =>
        this.connection.query(
          `CREATE TRIGGER IF NOT EXISTS ${this.triggerName(id, suffix)} AFTER ${event} ON ${quoteName(this.schema)}.${quoteName(table)} FOR EACH ROW\n` +
            `IF ${OWN_WRITES_VARIABLE} IS NULL THEN INSERT IGNORE INTO ${changes} (${keyList(key)}) VALUES (${values}); END IF`,
        ),
      )
    }
  }

  /** Each column's default as SQL (information_schema gives `NULL`, quoted literals, expressions). */
  private async columnDefaults(table: string, columns: string[]): Promise<Map<string, string>> {
    if (columns.length === 0) return new Map()
    const [rows] = await this.connection.query<RowDataPacket[]>(
      'SELECT COLUMN_NAME AS name, COLUMN_DEFAULT AS value, IS_NULLABLE AS nullable FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [this.schema, table],
    )
    const wanted = new Set(columns.map((column) => column.toLowerCase()))
    const defaults = new Map<string, string>()
    for (const row of rows) {
      const name = String(row.name).toLowerCase()
      if (!wanted.has(name)) continue
      // A NOT NULL column without a default has nothing to go back to: it keeps its value.
      if (row.value !== null) defaults.set(name, String(row.value))
      else if (row.nullable === 'YES') defaults.set(name, 'NULL')
    }
    return defaults
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
