import type { RowDataPacket } from 'mysql2/promise'
import type { DatabaseConfig } from '../../config/config.js'
import { quoteName, tableExists, type Connection } from '../connection.js'
import { parseVersion, type Version } from './version.js'

/**
 * The application's own version table (one row), read to plan and written at finalize.
 * A schema without the table is at version 0: nothing has been installed yet.
 */
export async function readSchemaVersion(connection: Connection, config: DatabaseConfig): Promise<Version> {
  if (!(await tableExists(connection, config.schema, config.versionTable))) return [0]
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT ${quoteName(config.versionColumn)} AS version FROM ${tableName(config)} LIMIT 2`,
  )
  if (rows.length === 0) return [0]
  return parseVersion(String(rows[0]!.version), `${config.schema}.${config.versionTable}.${config.versionColumn}`)
}

export async function writeSchemaVersion(connection: Connection, config: DatabaseConfig, version: string): Promise<void> {
  await connection.beginTransaction()
  try {
    await connection.query(`DELETE FROM ${tableName(config)}`)
    await connection.query(`INSERT INTO ${tableName(config)} (${quoteName(config.versionColumn)}) VALUES (?)`, [version])
    await connection.commit()
  } catch (error) {
    await connection.rollback()
    throw error
  }
}

function tableName(config: DatabaseConfig): string {
  return `${quoteName(config.schema)}.${quoteName(config.versionTable)}`
}
