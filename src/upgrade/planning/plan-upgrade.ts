import type { HandoverConfig } from '../../config/config.js'
import { connect, tableExists, type Connection } from '../../db/connection.js'
import type { PlannedScript } from '../../db/migrations/versions/migration-planner.js'
import { loadChain } from '../../db/migrations/versions/migration-chain.js'
import { historyDifferences } from '../../db/migrations/history-consistency.js'
import { MigrationHistory } from '../../db/migrations/migration-history.js'
import type { MigrationScript } from '../../db/migrations/scripts/migration-script.js'
import { planRebuilds, type RebuildSpec } from '../../db/capture/online-rebuild.js'
import { triggerProblems } from '../../db/migrations/undo/row-snapshot.js'
import { rowRestoredStatements } from '../../db/migrations/undo/restore-point.js'
import { redoLogShortfall, rewrittenTables, type RedoLogShortfall } from '../../db/capture/redo-log-check.js'
import { estimateContractHold, type HoldEstimate } from '../../db/migrations/hold-estimate.js'
import { rehearse, type RehearsedStatement } from '../../db/rehearsal/rehearsal.js'
import { compareVersions, formatVersion, parseVersion, type Version } from '../../db/migrations/versions/version.js'
import { readSchemaVersion, rehearseVersionWrite } from '../../db/migrations/versions/version-table.js'
import { loadSchemaModel } from '../../db/ddl/schema-model.js'
import type { SchemaState } from '../../db/classifier/schema-state.js'

export interface UpgradePlan {
  schema: string
  current: string
  target: string
  /** Empty when the schema is already at or past the target. */
  steps: PlannedScript[]
  rehearsed: RehearsedStatement[]
  /** How long the contract would hold requests, and the statements that take the time. */
  hold: HoldEstimate
  /** Contract ALTERs whose table is rebuilt beside it during the expand: the contract only swaps it in. */
  rebuiltOnline: RebuildSpec[]
  maxWaitSeconds: number
  /** Statements recorded as applied whose effect the schema lacks: an upgrade refuses them. */
  staleHistory: string[]
  /** A table the expand rewrites that is bigger than the server's redo log. */
  redoLog?: RedoLogShortfall
  /** Contract data changes handover could not undo (a table with triggers): an upgrade refuses them. */
  rowUndoProblems: string[]
}

/** Statements the history records as applied whose effect the schema lacks (empty before any run). */
export async function staleHistory(db: Connection, config: HandoverConfig, scripts: readonly MigrationScript[]): Promise<string[]> {
  if (!(await tableExists(db, config.database.journalSchema, 'handover_migrations'))) return []
  return historyDifferences(db, config.database.schema, new MigrationHistory(db, config.database.journalSchema, config.service.name), scripts)
}

/**
 * The chain from `current` to `target`, each script classified against `start` (a resumed run
 * gives the schema it started from) or else the live schema.
 */
export async function planScripts(db: Connection, config: HandoverConfig, current: Version, target: Version, start?: SchemaState): Promise<PlannedScript[]> {
  const { dir, schemaAliases, versions, releasesWithoutScripts } = config.migrations
  const from = start ? { start } : { schema: await loadSchemaModel(db, config.database.schema) }
  return loadChain(dir, current, target, { ...from, schemaName: config.database.schema, schemaAliases, versions, releasesWithoutScripts })
}

/** What an upgrade to `target` would run, rehearsed on a copy. Changes nothing real. */
export async function planUpgrade(config: HandoverConfig, target: string): Promise<UpgradePlan> {
  const targetVersion = parseVersion(target, '--version', config.migrations.versions)
  const db = await connect(config.database)
  try {
    const current = await readSchemaVersion(db, config.database, config.migrations.versions)
    const base = { schema: config.database.schema, current: formatVersion(current), target, maxWaitSeconds: config.proxy.buffer.maxWaitSeconds }
    if (compareVersions(current, targetVersion) >= 0) return { ...base, steps: [], rehearsed: [], hold: { seconds: 0, statements: [] }, rebuiltOnline: [], staleHistory: [], rowUndoProblems: [] }
    const steps = await planScripts(db, config, current, targetVersion)
    const scripts = steps.map((step) => step.script)
    const stale = await staleHistory(db, config, scripts)
    const rehearsed = await rehearse(db, config.database.schema, scripts, undefined, (copy, asCopyUser) => rehearseVersionWrite(asCopyUser, config.database, target, copy))
    const algorithms = new Map(rehearsed.filter((s) => s.part === 'contract').map((s) => [`${s.script}#${s.index}`, s.algorithm]))
    const rebuiltOnline = await planRebuilds(db, config.database.schema, scripts, (script, index) => algorithms.get(`${script}#${index}`))
    const hold = await estimateContractHold(db, config.database.schema, scripts, rehearsed, rebuiltOnline)
    const redoLog = await redoLogShortfall(db, config.database.schema, rewrittenTables(scripts, rehearsed, rebuiltOnline))
    const rowUndoProblems = await triggerProblems(db, config.database.schema, rowRestoredStatements(scripts))
    return { ...base, steps, rehearsed, hold, rebuiltOnline, staleHistory: stale, rowUndoProblems, ...(redoLog ? { redoLog } : {}) }
  } finally {
    await db.end()
  }
}
