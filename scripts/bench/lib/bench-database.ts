import { randomBytes } from 'node:crypto'
import type { DatabaseConfig } from '../../../src/config/config.js'

/** A throw-away schema on the local MariaDB for one bench run, with its journal schema beside it. */
export function benchDatabase(prefix: string): DatabaseConfig {
  const schema = `${prefix}_${randomBytes(3).toString('hex')}`
  return {
    host: '127.0.0.1',
    port: 3306,
    user: process.env.HANDOVER_DB_USER ?? 'handover',
    password: { fromEnv: 'HANDOVER_DB_PASSWORD' },
    schema,
    journalSchema: `${schema}_journal`,
    versionTable: 'app_version',
    versionColumn: 'version',
  }
}
