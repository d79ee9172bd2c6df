import { resolve } from 'node:path'
import { loadConfig } from '../../config/load-config.js'
import { listBackups, restoreBackup } from '../../db/backup.js'
import { connect } from '../../db/connection.js'
import { forgetHistoryAbove } from '../../db/migrations/history-consistency.js'
import { readSchemaVersion } from '../../db/migrations/versions/version-table.js'
import { formatVersion } from '../../db/migrations/versions/version.js'
import { InvalidInputError } from '../../errors.js'
import { parseOptions, requireOption, type Command } from '../command.js'
import { EXIT } from '../exit-codes.js'
import { printJson, type BackupListJson } from '../json-output.js'

export const backupCommand: Command = {
  usage: `handover backup list --config FILE [--json]
handover backup restore --config FILE --file DUMP --yes

  list      the dumps of the service's schema in backup.dir, newest first; --json prints
            one object (BackupListJson in src/cli/json-output.ts)
  restore   drops the schema and loads DUMP (a dump of this schema taken by handover);
            stop the service's writers first. --yes confirms. The migration history of
            scripts above the restored version is forgotten: the next upgrade runs them.`,
  async run(args, output) {
    const [action, ...rest] = args
    if (action !== 'list' && action !== 'restore') throw new InvalidInputError('handover backup', 'expected list or restore (see handover backup --help)')
    const values = parseOptions(`backup ${action}`, rest, { config: { type: 'string' }, file: { type: 'string' }, yes: { type: 'boolean' }, json: { type: 'boolean' } })
    const config = loadConfig(requireOption(`backup ${action}`, 'config', values.config))
    if (action === 'list') {
      const backups = await listBackups(config.backup.dir, config.database.schema)
      if (values.json) {
        const list: BackupListJson = { schema: config.database.schema, dir: config.backup.dir, backups: backups.map((b) => ({ file: b.file, bytes: b.bytes, modifiedAt: b.modified.toISOString() })) }
        printJson(output, list)
        return EXIT.OK
      }
      if (backups.length === 0) output.out(`no dumps of ${config.database.schema} in ${config.backup.dir}`)
      for (const backup of backups) output.out(`${backup.modified.toISOString()}  ${String(backup.bytes).padStart(12)} bytes  ${backup.file}`)
      return 0
    }
    const file = resolve(requireOption('backup restore', 'file', values.file))
    if (!values.yes) throw new InvalidInputError('handover backup restore', `restoring drops schema ${config.database.schema} first; add --yes to confirm`)
    await restoreBackup(config.database, file)
    output.out(`restored ${config.database.schema} from ${file}`)
    const db = await connect(config.database)
    try {
      const version = await readSchemaVersion(db, config.database, config.migrations.versions)
      const forgotten = await forgetHistoryAbove(db, config.database.journalSchema, config.service.name, version, config.migrations.versions)
      output.out(`migration history reset to version ${formatVersion(version)}${forgotten.length ? `: ${forgotten.join(', ')} will run again` : ''}`)
    } finally {
      await db.end()
    }
    return 0
  },
}
