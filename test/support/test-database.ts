/** A uniquely named schema on the real MariaDB for one test, dropped afterwards. */
import mysql from 'mysql2/promise'
import type { DatabaseConfig } from '../../src/config/config.js'
import { dbPassword } from './test-service.js'

export interface TestDatabase {
  schema: string
  journalSchema: string
  config: DatabaseConfig
  db: mysql.Connection
  cleanup(): Promise<void>
}

export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const suffix = Math.random().toString(36).slice(2, 8)
  const schema = `${prefix}_${suffix}`
  const journalSchema = `${prefix}_${suffix}_journal`
  const db = await mysql.createConnection({ host: '127.0.0.1', user: 'handover', password: dbPassword(), multipleStatements: true })
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

export async function columnsOf(db: mysql.Connection, schema: string, table: string): Promise<string[]> {
  const [rows] = await db.query<mysql.RowDataPacket[]>(
    'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position',
    [schema, table],
  )
  return rows.map((row) => String(row.c))
}
