import type { RowDataPacket } from 'mysql2/promise'
import type { DatabaseConfig } from '../../../config/config.js'
import { HandoverError } from '../../../errors.js'
import { quoteName, tableExists, type Connection } from '../../connection.js'
import { DEFAULT_VERSION_SCHEME, parseVersion, type Version, type VersionScheme } from './version.js'

/** The version statement failed, or left the table saying something else. */
export class VersionWriteError extends HandoverError {
  readonly code = 'VERSION_WRITE_FAILED'

  constructor(
    readonly where: string,
    readonly reason: string,
  ) {
    super(`writing the version ${where} fails: ${reason}; check database.versionWrite (or versionTable/versionColumn) against the application's version table`)
  }
}

/**
 * The application's own version table (one row), read to plan and written at finalize.
 * A schema without the table is at version 0: nothing has been installed yet.
 */
export async function readSchemaVersion(connection: Connection, config: DatabaseConfig, scheme: VersionScheme = DEFAULT_VERSION_SCHEME): Promise<Version> {
  if (!(await tableExists(connection, config.schema, config.versionTable))) return [0]
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT ${quoteName(config.versionColumn)} AS version FROM ${tableName(config, config.schema)} LIMIT 2`,
  )
  if (rows.length === 0) return [0]
  return parseVersion(String(rows[0]!.version), `${config.schema}.${config.versionTable}.${config.versionColumn}`, scheme)
}

/**
 * Writes `version` in one transaction: database.versionWrite if given (an application's
 * version table may have other required columns or several rows), else the one row of
 * versionTable replaced. `schema` is where: the live schema, or the rehearsal's copy.
 */
export async function writeSchemaVersion(connection: Connection, config: DatabaseConfig, version: string, schema: string = config.schema): Promise<void> {
  await connection.query(`USE ${quoteName(schema)}`)
  await connection.beginTransaction()
  try {
    await runWrite(connection, config, version, schema)
    await connection.commit()
  } catch (error) {
    await connection.rollback()
    throw new VersionWriteError(`in ${schema}`, (error as Error).message)
  }
}

/** Runs the version write on the rehearsal's copy and rolls it back: a statement that cannot run is found before the upgrade starts. */
export async function rehearseVersionWrite(connection: Connection, config: DatabaseConfig, version: string, copy: string): Promise<void> {
  await connection.query(`USE ${quoteName(copy)}`)
  await connection.beginTransaction()
  try {
    await runWrite(connection, config, version, copy)
  } catch (error) {
    throw new VersionWriteError('on the rehearsal copy', (error as Error).message)
  } finally {
    await connection.rollback()
  }
}

async function runWrite(connection: Connection, config: DatabaseConfig, version: string, schema: string): Promise<void> {
  if (config.versionWrite) {
    await connection.query(config.versionWrite.replace(/:version\b/g, connection.escape(version)))
    return
  }
  await connection.query(`DELETE FROM ${tableName(config, schema)}`)
  await connection.query(`INSERT INTO ${tableName(config, schema)} (${quoteName(config.versionColumn)}) VALUES (?)`, [version])
}

function tableName(config: DatabaseConfig, schema: string): string {
  return `${quoteName(schema)}.${quoteName(config.versionTable)}`
}
