import type { ResultSetHeader } from 'mysql2/promise'
import type { Connection } from '../connection.js'
import type { MigrationScript } from '../migrations/scripts/migration-script.js'
import type { BackfillProgressLedger } from './backfill-progress.js'
import { planCaptures, type CaptureSpec } from './capture-plan.js'
import { columnFacts } from './column-facts.js'
import { runChunkedBackfill, type BackfillReport, type BackfillTuning } from './chunked-backfill.js'
import { tableKey, type TableKey } from './table-key.js'
import { OWN_WRITES_VARIABLE, WriteCapture } from './write-capture.js'

export interface CapturedBackfillsOptions {
  connection: Connection
  schema: string
  progress: BackfillProgressLedger
  tuning: BackfillTuning
}

/** How one backfill ran. */
export interface BackfillRun {
  capture: CaptureSpec['mode']
  /** Present when it ran in key-range chunks. */
  chunks?: BackfillReport
}

/** How long the expand's catch-up of recorded keys may take before the contract does the rest. */
const CATCH_UP_DEADLINE_MS = 60_000
/** Keys left for the contract: few enough to replay in milliseconds while requests are held. */
const CATCH_UP_LEAVE = 50

/**
 * The backfills of one chain and the capture of the old version's writes behind them: the
 * capture is installed before a backfill's first chunk, caught up at the end of the expand,
 * and finished and removed at the start of the contract, while nothing writes. Which
 * backfills are captured follows from the scripts and the tables' keys alone, so a resumed
 * run decides the same way.
 */
export class CapturedBackfills {
  private readonly capture: WriteCapture
  private readonly keys = new Map<string, TableKey | undefined>()

  constructor(private readonly options: CapturedBackfillsOptions) {
    this.capture = new WriteCapture(options.connection, options.schema)
  }

  /** The capture of the backfill at `index` of the script's expand part, with the mode it gets here. */
  async specFor(scripts: readonly MigrationScript[], script: string, index: number): Promise<CaptureSpec | undefined> {
    return (await this.specs(scripts)).find((entry) => entry.script === script && entry.index === index)
  }

  /**
   * Every backfill's capture with the mode the live tables allow: a per-row backfill that
   * reads the table's AUTO_INCREMENT column cannot be applied by a BEFORE INSERT trigger
   * (the id is not known yet), so its table is captured by keys; keys need a usable key.
   */
  private async specs(scripts: readonly MigrationScript[]): Promise<CaptureSpec[]> {
    const planned = planCaptures(scripts)
    const modes = new Map<string, CaptureSpec['mode']>()
    for (const spec of planned) {
      const table = spec.table.toLowerCase()
      if (modes.has(table)) continue
      const specs = planned.filter((entry) => entry.table.toLowerCase() === table)
      let mode = spec.mode
      if (mode === 'row-trigger' && (await this.readsAutoIncrement(specs))) mode = specs.every((entry) => entry.shape.chunking) ? 'changed-keys' : 'uncaptured'
      if (mode === 'changed-keys' && !(await this.keyOf(spec.table))) mode = 'uncaptured'
      modes.set(table, mode)
    }
    return planned.map((spec) => ({ ...spec, mode: modes.get(spec.table.toLowerCase())! }))
  }

  private async readsAutoIncrement(specs: CaptureSpec[]): Promise<boolean> {
    const facts = await columnFacts(this.options.connection, this.options.schema, specs[0]!.table)
    const auto = [...facts.values()].find((fact) => fact.autoIncrement)?.name.toLowerCase()
    return auto !== undefined && specs.some((spec) => spec.shape.perRow && spec.shape.reads.includes(auto))
  }

  /** Installs the capture, then runs the backfill: in key-range chunks when the table has a key. */
  async run(spec: CaptureSpec, runWhole: () => Promise<void>, recordDone: () => Promise<void>, signal?: AbortSignal): Promise<BackfillRun> {
    const key = await this.keyOf(spec.table)
    await this.capture.install(spec, key)
    if (!key || !spec.shape.chunking || spec.mode === 'uncaptured') {
      await this.withOwnWrites(runWhole)
      return { capture: spec.mode }
    }
    const { connection, schema, progress, tuning } = this.options
    const chunks = await runChunkedBackfill({ connection, schema, table: spec.table, key, chunking: spec.shape.chunking, ledger: progress, script: spec.script, index: spec.index, tuning, ...(signal ? { signal } : {}) })
    await recordDone()
    await progress.clear(spec.script, spec.index)
    return { capture: spec.mode, chunks }
  }

  /** End of the expand: replays recorded keys while the old version still serves, leaving the contract a handful. */
  async catchUp(scripts: readonly MigrationScript[]): Promise<number> {
    await this.capture.checkRecordedErrors()
    let replayed = 0
    for (const [specs, key] of await this.keyedTables(scripts)) {
      replayed += await this.capture.replayChangedKeys(specs, key, CATCH_UP_LEAVE, CATCH_UP_DEADLINE_MS)
    }
    return replayed
  }

  /** Start of the contract (nothing writes): the last recorded keys replayed, every trigger and change table removed. */
  async finish(scripts: readonly MigrationScript[]): Promise<{ replayed: number; removed: string[] }> {
    await this.capture.checkRecordedErrors()
    let replayed = 0
    for (const [specs, key] of await this.keyedTables(scripts)) replayed += await this.capture.replayChangedKeys(specs, key, 0)
    return { replayed, removed: await this.capture.removeAll() }
  }

  /** Undo of the expand: captures go first, since their triggers name the columns the undo drops. */
  async remove(scripts: readonly MigrationScript[]): Promise<string[]> {
    for (const spec of planCaptures(scripts)) await this.options.progress.clear(spec.script, spec.index)
    return this.capture.removeAll()
  }

  private async keyedTables(scripts: readonly MigrationScript[]): Promise<[CaptureSpec[], TableKey][]> {
    const byTable = new Map<string, CaptureSpec[]>()
    for (const spec of await this.specs(scripts)) {
      if (spec.mode !== 'changed-keys') continue
      byTable.set(spec.table.toLowerCase(), [...(byTable.get(spec.table.toLowerCase()) ?? []), spec])
    }
    const tables: [CaptureSpec[], TableKey][] = []
    for (const specs of byTable.values()) {
      const key = await this.keyOf(specs[0]!.table)
      if (key) tables.push([specs, key])
    }
    return tables
  }

  private async keyOf(table: string): Promise<TableKey | undefined> {
    const name = table.toLowerCase()
    if (!this.keys.has(name) || this.keys.get(name) === undefined) this.keys.set(name, await tableKey(this.options.connection, this.options.schema, table))
    return this.keys.get(name)
  }

  private async withOwnWrites(work: () => Promise<void>): Promise<void> {
    const { connection } = this.options
    await connection.query<ResultSetHeader>(`SET ${OWN_WRITES_VARIABLE} = 1`)
    try {
      await work()
    } finally {
      await connection.query(`SET ${OWN_WRITES_VARIABLE} = NULL`)
    }
  }
}
