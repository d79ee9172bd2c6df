import { readSchemaVersion, writeSchemaVersion } from '../../db/migrations/version-table.js'
import { compareVersions, parseVersion } from '../../db/migrations/version.js'
import type { Phase } from '../upgrade-context.js'

/** Records the new version in the application's version table, and drops what the contract only renamed (unless kept for a retention). */
export const finalize: Phase = {
  name: 'finalize',
  async forward(context) {
    // Run again after a crash: the version may be written already.
    const current = await readSchemaVersion(context.db, context.config.database)
    if (compareVersions(current, parseVersion(context.to.version, 'the run\'s target version')) !== 0) await writeSchemaVersion(context.db, context.config.database, context.to.version)
    const retention = context.config.migrations.softDropRetentionHours
    if (retention > 0) return context.report({ type: 'soft-drops-kept', retentionHours: retention })
    const purged = await context.migrations.purgeSoftDrops(0)
    if (purged.length) context.report({ type: 'soft-drops-purged', names: purged.map((drop) => (drop.column ? `${drop.table}.${drop.softName}` : drop.softName)) })
  },
}
