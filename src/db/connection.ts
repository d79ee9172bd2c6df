import mysql from 'mysql2/promise'
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

/** One connection to the server, no default schema: callers qualify names with the schema. */
export async function connect(config: DatabaseConfig): Promise<Connection> {
  const password = resolveSecret(config.password, 'database.password')
  try {
    return await mysql.createConnection({
      host: config.host,
      port: config.port,
      user: config.user,
      password,
      multipleStatements: false,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      connectTimeout: 10_000,
    })
  } catch (error) {
    // mysql2's messages carry the user name at most, never the password.
    throw new DatabaseUnreachableError(`${config.host}:${config.port}`, errorMessage(error))
  }
}

/** Backtick-quotes an identifier that config validation already restricted to [A-Za-z0-9_]. */
export function quoteName(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`'
}
