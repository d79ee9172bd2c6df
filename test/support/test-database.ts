/** A uniquely named schema on the real MariaDB for one test, dropped afterwards. */
import mysql from 'mysql2/promise'
import type { DatabaseConfig } from '../../src/config/config.js'
import { dbPassword } from '../../scripts/lib/db-password.js'
import { isAlive } from '../../src/runtime/process-alive.js'

export { dbPassword }

export interface TestDatabase {
  schema: string
  journalSchema: string
  config: DatabaseConfig
  db: mysql.Connection
  cleanup(): Promise<void>
}


/** Named `<prefix>_<pid>_<random>`: the pid tells a later run whether the test that made it is gone. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const suffix = Math.random().toString(36).slice(2, 8)
  const schema = `${prefix}_${process.pid}_${suffix}`
  const journalSchema = `${schema}_journal`
  const db = await mysql.createConnection({ host: '127.0.0.1', user: 'handover', password: dbPassword(), multipleStatements: true })
  await dropLeftoverDatabases(db, prefix)
  await db.query(`CREATE DATABASE \`${schema}\``)
  await db.query(`USE \`${schema}\``)
  const config: DatabaseConfig = {
    host: '127.0.0.1',
    port: 3306,
    user: 'handover',
    password: { fromEnv: 'HANDOVER_DB_PASSWORD' },
    schema,
    journalSchema,
    versionTable: 'app_version',
    versionColumn: 'version',
  }
  return {
    schema,
    journalSchema,
    config,
    db,
    async cleanup() {
      await db.query(`DROP DATABASE IF EXISTS \`${schema}\``)
      await db.query(`DROP DATABASE IF EXISTS \`${journalSchema}\``)
      await db.end()
    },
  }
}

/** Databases of this prefix left by a test process that is gone (an interrupted run); those of live processes are in use. */
async function dropLeftoverDatabases(db: mysql.Connection, prefix: string): Promise<void> {
  const made = new RegExp(`^${prefix}_(\\d+)_[a-z0-9]+(_journal)?$`)
  const [rows] = await db.query<mysql.RowDataPacket[]>('SHOW DATABASES')
  for (const row of rows) {
    const name = String(row.Database)
    const owner = made.exec(name)?.[1]
    if (owner !== undefined && !isAlive(Number(owner))) await db.query(`DROP DATABASE IF EXISTS \`${name}\``)
  }
}

export async function columnsOf(db: mysql.Connection, schema: string, table: string): Promise<string[]> {
  const [rows] = await db.query<mysql.RowDataPacket[]>(
    'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position',
    [schema, table],
  )
  return rows.map((row) => String(row.c))
}
