import { readSchemaVersion, VersionWriteError, writeSchemaVersion } from '../../db/migrations/versions/version-table.js'
import { compareVersions, formatVersion, parseVersion } from '../../db/migrations/versions/version.js'
import type { Phase } from '../run/upgrade-context.js'

/** Records the new version in the application's version table, and drops what the contract only renamed (unless kept for a retention). */
export const finalize: Phase = {
  name: 'finalize',
  async forward(context) {
    // Run again after a crash: the version may be written already.
    const { database, migrations } = context.config
    const target = parseVersion(context.to.version, "the run's target version", migrations.versions)
    const current = await readSchemaVersion(context.db, database, migrations.versions)
    if (compareVersions(current, target) !== 0) {
      await writeSchemaVersion(context.db, database, context.to.version)
      // A versionWrite that matched no row leaves the old version: the next run would plan again from it.
      const written = await readSchemaVersion(context.db, database, migrations.versions)
      if (compareVersions(written, target) !== 0) throw new VersionWriteError(`in ${database.schema}`, `the version table still says ${formatVersion(written)} after the write`)
    }
    // The copies of rows a contract's undo would have needed hold the service's data: nothing needs them now.
    await context.migrations.dropRowSnapshots()
    const retention = context.config.migrations.softDropRetentionHours
    if (retention > 0) return context.report({ type: 'soft-drops-kept', retentionHours: retention })
    const purged = await context.migrations.purgeSoftDrops(0)
    if (purged.length) context.report({ type: 'soft-drops-purged', names: purged.map((drop) => (drop.column ? `${drop.table}.${drop.softName}` : drop.softName)) })
  },
}
