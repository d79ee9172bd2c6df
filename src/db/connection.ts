import mysql, { type RowDataPacket } from 'mysql2/promise'
import type { DatabaseConfig } from '../config/config.js'
import { resolveSecret } from '../config/secrets.js'
import { HandoverError, errorMessage } from '../errors.js'

export type Connection = mysql.Connection

export class DatabaseUnreachableError extends HandoverError {
  readonly code = 'DATABASE_UNREACHABLE'

  constructor(
    readonly address: string,
    reason: string,
  ) {
    super(`cannot connect to MySQL at ${address} (${reason}); check database.host/port/user and that the server is up`)
  }
}

/** How every connection reads values: the same for handover's own user and the rehearsal's. */
export const CONNECTION_FLAGS = {
  multipleStatements: false,
  supportBigNumbers: true,
  bigNumberStrings: true,
  dateStrings: true,
  connectTimeout: 10_000,
} as const

/** One connection to the server, no default schema: callers qualify names with the schema. */
export async function connect(config: DatabaseConfig): Promise<Connection> {
  const password = resolveSecret(config.password, 'database.password')
  try {
    return await mysql.createConnection({ host: config.host, port: config.port, user: config.user, password, ...CONNECTION_FLAGS })
  } catch (error) {
    // mysql2's messages carry the user name at most, never the password.
    throw new DatabaseUnreachableError(`${config.host}:${config.port}`, errorMessage(error))
  }
}

export { quoteName } from './migrations/scripts/sql-statements.js'

export async function tableExists(connection: Connection, schema: string, table: string): Promise<boolean> {
  const [rows] = await connection.query<RowDataPacket[]>('SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?', [schema, table])
  return rows.length > 0
}

/** Runs `work` with this session's foreign key checks off, and turns them on again whatever happens. */
export async function withoutForeignKeyChecks<T>(connection: Connection, work: () => Promise<T>): Promise<T> {
  await connection.query('SET SESSION foreign_key_checks = 0')
  try {
    return await work()
  } finally {
    await connection.query('SET SESSION foreign_key_checks = 1')
  }
}
