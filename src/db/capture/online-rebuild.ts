import { createHash } from 'node:crypto'
import type { RowDataPacket } from 'mysql2/promise'
import type { AlterAlgorithm } from '../ddl/alter-algorithm.js'
import { isAlterTable } from '../ddl/alter-algorithm.js'
import { quoteName, tableExists, type Connection } from '../connection.js'
import { withoutQueueing } from '../ddl/metadata-lock.js'
import type { MigrationScript } from '../migrations/scripts/migration-script.js'
import type { SoftDrop } from '../migrations/undo/soft-drop.js'
import type { BackfillProgressLedger } from './backfill-progress.js'
import { runChunkedBackfill, type BackfillReport, type BackfillTuning } from './chunked-backfill.js'
import { keyIn, keyList } from './key-sql.js'
import { tableKey, type TableKey } from './table-key.js'

/**
 * A contract ALTER that rebuilds its table (the server copies it) would hold every request
 * for the whole copy. Instead the new shape is built beside the table during the expand,
 * while the old version serves: a shadow table gets the ALTER while empty, rows are copied
 * in key-range chunks, and triggers record the key of every row the old version writes, to
 * be copied again. The contract, with nothing writing, copies the last recorded rows and
 * swaps the shadow in with one atomic RENAME TABLE; the old table is kept, like a soft
 * drop, until finalize, so an undo swaps it back exactly.
 */
export interface RebuildSpec {
  script: string
  /** The statement's index in the script's contract part. */
  index: number
  table: string
  sql: string
  shadow: string
  changes: string
  old: string
  triggerPrefix: string
}

/** The soft-drop ledger's mark of a table the contract swapped out for its rebuilt copy (then its triggers, as JSON). */
export const REBUILT = 'rebuilt'

export function isRebuilt(drop: SoftDrop): boolean {
  return drop.definition?.startsWith(`${REBUILT}:`) === true
}

interface TableTrigger {
  name: string
  sql: string
  sqlMode: string
}

function triggersIn(drop: SoftDrop): TableTrigger[] {
  return JSON.parse(drop.definition!.slice(REBUILT.length + 1)) as TableTrigger[]
}
/** Keys a replay batch takes while the service writes (short locks), and once nothing writes (few round trips). */
const REPLAY_BATCH_ROWS = 500
const QUIESCENT_BATCH_ROWS = 5_000
const CATCH_UP_LEAVE = 50
const CATCH_UP_DEADLINE_MS = 60_000
const RENAMING_CLAUSE = /\b(?:RENAME|CHANGE)\b/i
const ALTER_HEAD = /^(\s*ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\s+)((?:`(?:[^`]|``)+`|[\w$]+)(?:\s*\.\s*(?:`(?:[^`]|``)+`|[\w$]+))?)/i

/**
 * The contract ALTERs that get an online rebuild: the rehearsal saw the server copy or
 * rebuild the table, the table has a key, takes part in no foreign key (a RENAME would
 * leave them pointing at the old table), and is changed by no other contract statement.
 */
export async function planRebuilds(
  connection: Connection,
  schema: string,
  scripts: readonly MigrationScript[],
  algorithmOf: (script: string, index: number) => AlterAlgorithm | undefined,
): Promise<RebuildSpec[]> {
  const candidates: RebuildSpec[] = []
  const touched = new Map<string, number>()
  for (const script of scripts) {
    script.parts.contract.forEach((statement, index) => {
      const table = statement.classified?.table
      if (!table || statement.catchUpOf !== undefined) return
      touched.set(table.toLowerCase(), (touched.get(table.toLowerCase()) ?? 0) + 1)
      const algorithm = algorithmOf(script.name, index)
      if (!isAlterTable(statement.sql) || RENAMING_CLAUSE.test(statement.sql) || !ALTER_HEAD.test(statement.sql)) return
      if (algorithm !== 'COPY' && algorithm !== 'INPLACE') return
      if (statement.classified?.kind === 'drop-column' || statement.classified?.kind === 'drop-table') return
      candidates.push(specOf(script.name, index, table, statement.sql))
    })
  }
  const eligible: RebuildSpec[] = []
  for (const spec of candidates) {
    if (touched.get(spec.table.toLowerCase()) !== 1) continue
    if (!(await tableKey(connection, schema, spec.table)) || (await inForeignKey(connection, schema, spec.table))) continue
    eligible.push(spec)
  }
  return eligible
}

export class OnlineRebuilds {
  constructor(
    private readonly connection: Connection,
    private readonly schema: string,
    private readonly progress: BackfillProgressLedger,
    private readonly tuning: BackfillTuning,
  ) {}

  /**
   * Shadow, triggers, and the chunked copy; safe to run again after a crash. The shadow is
   * built under a temporary name and renamed once its ALTER is done, so a shadow that exists
   * has the new shape; a new one starts its copy from the first key.
   */
  async prepare(spec: RebuildSpec, signal?: AbortSignal): Promise<BackfillReport> {
    const key = (await tableKey(this.connection, this.schema, spec.table))!
    const journal = `${spec.script}#rebuild`
    if (!(await tableExists(this.connection, this.schema, spec.shadow))) {
      const building = `_handover_tmp_${spec.shadow.slice('_handover_new_'.length)}`
      await this.connection.query(`DROP TABLE IF EXISTS ${this.name(building)}`)
      await this.connection.query(`CREATE TABLE ${this.name(building)} LIKE ${this.name(spec.table)}`)
      await this.connection.query(spec.sql.replace(ALTER_HEAD, (_, head: string) => `${head}${this.name(building)}`))
      await this.connection.query(`RENAME TABLE ${this.name(building)} TO ${this.name(spec.shadow)}`)
      await this.progress.clear(journal, spec.index)
    }
    await this.installKeyCapture(spec, key)
    const columns = await this.copiedColumns(spec)
    // A plain INSERT, after the chunk's range is emptied: a row the new shape refuses (a
    // duplicate under a new unique key, a NULL) fails the copy, as it would fail the ALTER.
    const head = `INSERT INTO ${this.name(spec.shadow)} (${columns}) SELECT ${columns} FROM ${this.name(spec.table)}`
    return this.readCommitted(async () => {
      const report = await runChunkedBackfill({
        connection: this.connection, schema: this.schema, table: spec.table, key, chunking: { head }, clearHead: `DELETE FROM ${this.name(spec.shadow)}`,
        ledger: this.progress, script: journal, index: spec.index, tuning: this.tuning, lockRows: false, ...(signal ? { signal } : {}),
      })
      await this.replay(spec, key, CATCH_UP_LEAVE, CATCH_UP_DEADLINE_MS)
      return report
    })
  }

  /**
   * Copies read the table without locking its rows (READ COMMITTED reads the last committed
   * version and takes no gap locks), so the service's writes never wait for them; a row
   * written after it was read is recorded by the triggers and copied again.
   */
  private async readCommitted<T>(work: () => Promise<T>): Promise<T> {
    const [rows] = await this.connection.query<RowDataPacket[]>('SELECT @@SESSION.tx_isolation AS level')
    const previous = String(rows[0]!.level).replace(/-/g, ' ')
    await this.connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED')
    try {
      return await work()
    } finally {
      await this.connection.query(`SET SESSION TRANSACTION ISOLATION LEVEL ${previous}`)
    }
  }

  /**
   * In the contract, first half: the last recorded rows copied, the capture removed, the
   * AUTO_INCREMENT counter carried over, and what the swap will do described for the
   * soft-drop ledger (the table's own triggers included), to be recorded before it happens.
   * Undefined when the swap already happened.
   */
  async prepareSwap(spec: RebuildSpec): Promise<SoftDrop | undefined> {
    if (!(await tableExists(this.connection, this.schema, spec.shadow))) return undefined
    const key = (await tableKey(this.connection, this.schema, spec.table))!
    await this.readCommitted(() => this.replay(spec, key, 0))
    await this.dropTriggers(spec.triggerPrefix)
    const [counter] = await this.connection.query<RowDataPacket[]>('SELECT AUTO_INCREMENT AS next FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [this.schema, spec.table])
    if (counter[0]?.next !== null && counter[0]?.next !== undefined) await this.connection.query(`ALTER TABLE ${this.name(spec.shadow)} AUTO_INCREMENT = ${Number(counter[0].next)}`)
    const triggers = await this.triggersOf(spec.table)
    return { script: spec.script, table: spec.table, softName: spec.old, definition: `${REBUILT}:${JSON.stringify(triggers)}` }
  }

  /** Second half: the shadow swapped in by one RENAME TABLE, the table's own triggers moved to it. */
  async completeSwap(spec: RebuildSpec, drop: SoftDrop): Promise<void> {
    if (!(await tableExists(this.connection, this.schema, spec.shadow))) return
    await this.moveTriggers(triggersIn(drop), () => this.connection.query(`RENAME TABLE ${this.name(spec.table)} TO ${this.name(spec.old)}, ${this.name(spec.shadow)} TO ${this.name(spec.table)}`))
    await this.connection.query(`DROP TABLE IF EXISTS ${this.name(spec.changes)}`)
    await this.progress.clear(`${spec.script}#rebuild`, spec.index)
  }

  /** Undo of a swap (before the point of no return nothing but the contract wrote): the old table back, with its triggers. */
  async swapBack(drop: SoftDrop): Promise<void> {
    if (!(await tableExists(this.connection, this.schema, drop.softName))) return
    const rebuilt = `${drop.softName}_rebuilt`.slice(0, 64)
    await this.moveTriggers(triggersIn(drop), () => this.connection.query(`RENAME TABLE ${this.name(drop.table)} TO ${this.name(rebuilt)}, ${this.name(drop.softName)} TO ${this.name(drop.table)}`))
    await this.connection.query(`DROP TABLE IF EXISTS ${this.name(rebuilt)}`)
  }

  /** Undo of the expand: every shadow, change table and trigger of a rebuild, found by name. */
  async removeAll(): Promise<void> {
    const [triggers] = await this.connection.query<RowDataPacket[]>("SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME LIKE '\\_handover\\_rb\\_%'", [this.schema])
    for (const { name } of triggers) await this.connection.query(`DROP TRIGGER IF EXISTS ${this.name(String(name))}`)
    const [tables] = await this.connection.query<RowDataPacket[]>(
      "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND (TABLE_NAME LIKE '\\_handover\\_new\\_%' OR TABLE_NAME LIKE '\\_handover\\_tmp\\_%' OR TABLE_NAME LIKE '\\_handover\\_rbk\\_%')",
      [this.schema],
    )
    for (const { name } of tables) await this.connection.query(`DROP TABLE IF EXISTS ${this.name(String(name))}`)
  }

  /** Copies recorded rows again (or deletes them from the shadow when gone), batch by batch, until `leave` remain. */
  private async replay(spec: RebuildSpec, key: TableKey, leave: number, deadlineMs = Infinity): Promise<number> {
    const until = performance.now() + deadlineMs
    const columns = await this.copiedColumns(spec)
    const names = keyList(key)
    const batch = leave === 0 ? QUIESCENT_BATCH_ROWS : REPLAY_BATCH_ROWS
    let replayed = 0
    for (let round = 0; round < 1_000_000 && performance.now() <= until; round++) {
      const [pending] = await this.connection.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${this.name(spec.changes)}`)
      if (Number(pending[0]!.n) <= leave) break
      if (leave > 0) await this.readAhead(spec, key, columns, batch)
      await this.connection.beginTransaction()
      try {
        const [rows] = await this.connection.query<RowDataPacket[]>(`SELECT ${names} FROM ${this.name(spec.changes)} ORDER BY ${names} LIMIT ${batch} FOR UPDATE`)
        const where = keyIn(key, rows.map((row) => key.columns.map((column) => row[column.name])))
        await this.connection.query(`DELETE FROM ${this.name(spec.shadow)} WHERE ${where.sql}`, where.values)
        await this.connection.query(`INSERT INTO ${this.name(spec.shadow)} (${columns}) SELECT ${columns} FROM ${this.name(spec.table)} WHERE ${where.sql}`, where.values)
        await this.connection.query(`DELETE FROM ${this.name(spec.changes)} WHERE ${where.sql}`, where.values)
        await this.connection.commit()
        replayed += rows.length
      } catch (error) {
        await this.connection.rollback()
        throw error
      }
    }
    return replayed
  }

  /**
   * While the service writes, the next batch's rows are read once with no lock before the
   * batch locks its keys: the capture triggers of the service's writes to those rows wait for
   * that lock, and a table that does not fit in memory is read from disk here instead of
   * while they wait.
   */
  private async readAhead(spec: RebuildSpec, key: TableKey, columns: string, batch: number): Promise<void> {
    const names = keyList(key)
    const [rows] = await this.connection.query<RowDataPacket[]>(`SELECT ${names} FROM ${this.name(spec.changes)} ORDER BY ${names} LIMIT ${batch}`)
    if (rows.length === 0) return
    const where = keyIn(key, rows.map((row) => key.columns.map((column) => row[column.name])))
    await this.connection.query(`SELECT ${columns} FROM ${this.name(spec.table)} WHERE ${where.sql}`, where.values)
    await this.connection.query(`SELECT ${columns} FROM ${this.name(spec.shadow)} WHERE ${where.sql}`, where.values)
  }

  private async installKeyCapture(spec: RebuildSpec, key: TableKey): Promise<void> {
    const definitions = key.columns.map((column) => `${quoteName(column.name)} ${column.type}${column.collation ? ` COLLATE ${column.collation}` : ''} NOT NULL`)
    await this.connection.query(`CREATE TABLE IF NOT EXISTS ${this.name(spec.changes)} (${definitions.join(', ')}, PRIMARY KEY (${keyList(key)})) ENGINE=InnoDB`)
    const row = (alias: 'NEW' | 'OLD'): string => `(${key.columns.map((column) => `${alias}.${quoteName(column.name)}`).join(', ')})`
    const insert = (values: string): string => `INSERT IGNORE INTO ${this.name(spec.changes)} (${keyList(key)}) VALUES ${values}`
    // Not skipped for handover's own writes: a backfill's replay in the contract changes rows the shadow must get too.
    for (const [suffix, event, values] of [['i', 'INSERT', row('NEW')], ['u', 'UPDATE', `${row('OLD')}, ${row('NEW')}`], ['d', 'DELETE', row('OLD')]] as const) {
      await withoutQueueing(this.connection, () =>
        this.connection.query(`CREATE TRIGGER IF NOT EXISTS ${this.name(`${spec.triggerPrefix}${suffix}`)} AFTER ${event} ON ${this.name(spec.table)} FOR EACH ROW ${insert(values)}`),
      )
    }
  }

  /** The columns both tables have, generated ones aside: what a copy moves. */
  private async copiedColumns(spec: RebuildSpec): Promise<string> {
    const [rows] = await this.connection.query<RowDataPacket[]>(
      `SELECT s.COLUMN_NAME AS name FROM information_schema.COLUMNS s
         JOIN information_schema.COLUMNS t ON t.TABLE_SCHEMA = s.TABLE_SCHEMA AND t.TABLE_NAME = ? AND t.COLUMN_NAME = s.COLUMN_NAME
        WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.GENERATION_EXPRESSION IS NULL AND t.GENERATION_EXPRESSION IS NULL
        ORDER BY s.ORDINAL_POSITION`,
      [spec.table, this.schema, spec.shadow],
    )
    return rows.map((row) => quoteName(String(row.name))).join(', ')
  }

  /** The table's own triggers, in the order they fire, each with the sql_mode it was created under. */
  private async triggersOf(table: string): Promise<TableTrigger[]> {
    const [names] = await this.connection.query<RowDataPacket[]>(
      "SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND EVENT_OBJECT_TABLE = ? AND TRIGGER_NAME NOT LIKE '\\_handover\\_%' ORDER BY EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER",
      [this.schema, table],
    )
    const triggers: TableTrigger[] = []
    for (const { name } of names) {
      const [shown] = await this.connection.query<RowDataPacket[]>(`SHOW CREATE TRIGGER ${this.name(String(name))}`)
      // Re-created in firing order, so a FOLLOWS/PRECEDES clause (which may name one not yet back) is not needed.
      const sql = String(shown[0]!['SQL Original Statement']).replace(/(FOR\s+EACH\s+ROW)\s+(?:FOLLOWS|PRECEDES)\s+(?:`(?:[^`]|``)+`|[\w$]+)/i, '$1')
      triggers.push({ name: String(name), sql, sqlMode: String(shown[0]!.sql_mode) })
    }
    return triggers
  }

  /**
   * The table's own triggers leave it for `rename` and come back on whatever then has its
   * name, each under its own sql_mode. They come from the ledger's record, so a run cut off
   * between the drop and the re-create still has them.
   */
  private async moveTriggers(triggers: TableTrigger[], rename: () => Promise<unknown>): Promise<void> {
    for (const trigger of triggers) await this.connection.query(`DROP TRIGGER IF EXISTS ${this.name(trigger.name)}`)
    await rename()
    const [modes] = await this.connection.query<RowDataPacket[]>('SELECT @@SESSION.sql_mode AS mode')
    try {
      for (const trigger of triggers) {
        await this.connection.query('SET SESSION sql_mode = ?', [trigger.sqlMode])
        await this.connection.query(`USE ${quoteName(this.schema)}`)
        await this.connection.query(trigger.sql)
      }
    } finally {
      await this.connection.query('SET SESSION sql_mode = ?', [String(modes[0]!.mode)])
    }
  }

  private async dropTriggers(prefix: string): Promise<void> {
    for (const suffix of ['i', 'u', 'd']) await this.connection.query(`DROP TRIGGER IF EXISTS ${this.name(`${prefix}${suffix}`)}`)
  }

  private name(object: string): string {
    return `${quoteName(this.schema)}.${quoteName(object)}`
  }
}

async function inForeignKey(connection: Connection, schema: string, table: string): Promise<boolean> {
  const [rows] = await connection.query<RowDataPacket[]>(
    'SELECT 1 FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND (TABLE_NAME = ? OR REFERENCED_TABLE_NAME = ?) LIMIT 1',
    [schema, table, table],
  )
  return rows.length > 0
}

function specOf(script: string, index: number, table: string, sql: string): RebuildSpec {
  const id = createHash('sha256').update(`${script}\u0000${index}`).digest('hex').slice(0, 12)
  return { script, index, table, sql, shadow: `_handover_new_${id}`, changes: `_handover_rbk_${id}`, old: `_handover_old_${id}`, triggerPrefix: `_handover_rb_${id}_` }
}
