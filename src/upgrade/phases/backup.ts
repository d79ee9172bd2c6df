import { dumpSchema } from '../../db/backup.js'
import type { Phase } from '../upgrade-context.js'

/** A consistent dump of the application schema before anything changes. Nothing to undo: it is kept. */
export const backup: Phase = {
  name: 'backup',
  timeoutSeconds: () => 3600,
  async forward(context) {
    const { database, backup: where } = context.config
    context.backup = await dumpSchema(context.db, database, where.dir, `${context.from.version}-${context.runId}`)
    context.note(`backup: ${context.backup.file} (${context.backup.bytes} bytes)`)
  },
}
