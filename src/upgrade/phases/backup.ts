import { dumpSchema } from '../../db/backup.js'
import type { Phase } from '../run/upgrade-context.js'

/** A consistent dump of the application schema before anything changes. Nothing to undo: it is kept. */
export const backup: Phase = {
  name: 'backup',
  async forward(context, signal) {
    const { database, backup: where } = context.config
    const dump = await dumpSchema(context.db, database, where.dir, `${context.from.version}-${context.runId}`, signal)
    context.report({ type: 'backup-written', file: dump.file, bytes: dump.bytes })
  },
}
