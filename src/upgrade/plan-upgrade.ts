import type { HandoverConfig } from '../config/config.js'
import { connect } from '../db/connection.js'
import { planChain, type PlannedScript } from '../db/migration-planner.js'
import { readScripts } from '../db/migration-script.js'
import { rehearse, type RehearsedStatement } from '../db/rehearsal.js'
import { compareVersions, formatVersion, parseVersion } from '../db/version.js'
import { readSchemaVersion } from '../db/version-table.js'
import { loadSchemaModel } from '../db/schema-model.js'

export interface UpgradePlan {
  schema: string
  current: string
  target: string
  /** Empty when the schema is already at or past the target. */
  steps: PlannedScript[]
  rehearsed: RehearsedStatement[]
}

/** What an upgrade to `target` would run, rehearsed on a copy. Changes nothing real. */
export async function planUpgrade(config: HandoverConfig, target: string): Promise<UpgradePlan> {
  const targetVersion = parseVersion(target, '--version')
  const db = await connect(config.database)
  try {
    const scripts = readScripts(config.migrations.dir, await loadSchemaModel(db, config.database.schema))
    const current = await readSchemaVersion(db, config.database)
    const base = { schema: config.database.schema, current: formatVersion(current), target }
    if (compareVersions(current, targetVersion) >= 0) return { ...base, steps: [], rehearsed: [] }
    const steps = planChain(scripts, current, targetVersion)
    return { ...base, steps, rehearsed: await rehearse(db, config.database.schema, steps.map((step) => step.script)) }
  } finally {
    await db.end()
  }
}
