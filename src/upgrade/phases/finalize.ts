import { writeSchemaVersion } from '../../db/version-table.js'
import type { Phase } from '../upgrade-context.js'

/** Records the new version in the application's version table. */
export const finalize: Phase = {
  name: 'finalize',
  timeoutSeconds: () => 60,
  async forward(context) {
    await writeSchemaVersion(context.db, context.config.database, context.to.version)
  },
}
