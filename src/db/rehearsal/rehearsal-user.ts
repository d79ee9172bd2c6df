import mysql, { type RowDataPacket } from 'mysql2/promise'
import { randomBytes } from 'node:crypto'
import { HandoverError, errorMessage } from '../../errors.js'
import { CONNECTION_FLAGS, quoteName, type Connection } from '../connection.js'

/** database.user may not create the rehearsal's user: plan and the preflight cannot run. */
export class RehearsalUserRefusedError extends HandoverError {
  readonly code = 'REHEARSAL_USER_REFUSED'

  constructor(
    readonly user: string,
    readonly reason: string,
  ) {
    super(
      `the rehearsal runs the scripts as a user granted only its copy of the schema, and ${user} cannot create one (${reason}); ` +
        'grant database.user CREATE USER and ALL PRIVILEGES ... WITH GRANT OPTION on the `\\_handover\\_rehearsal\\_%` schemas (or on *.*)',
    )
  }
}

/** A connection as a user that can reach the rehearsal's copy and nothing else. */
export interface RehearsalSession {
  connection: Connection
  /** Ends the connection and drops the user; safe to call once whatever happened. */
  close(): Promise<void>
}

/** Every rehearsal copy's name starts so; its user has the copy's name. */
export const REHEARSAL_PREFIX = '_handover_rehearsal_'

/**
 * Creates a user granted every privilege on `copy` alone and connects as it, so a script
 * that names the live schema (`db.table`, a `USE`, a version write) is refused by the server
 * during the rehearsal instead of changing real tables. The user is created after its copy
 * and dropped before it: a user whose copy is gone is a leftover, removed here.
 */
export async function openRehearsalSession(admin: Connection, copy: string): Promise<RehearsalSession> {
  const [[who]] = await admin.query<RowDataPacket[]>('SELECT USER() AS user, CURRENT_USER() AS account')
  const adminUser = String(who!.account)
  // The host the server sees this process connect from: the new account matches it alone.
  const host = String(who!.user).slice(String(who!.user).lastIndexOf('@') + 1)
  const user = copy
  const password = randomBytes(18).toString('base64url')
  await dropLeftoverUsers(admin)
  try {
    await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, host, password])
    // In a GRANT's database name `_` matches any character: escaped, the grant names the copy alone.
    await admin.query(`GRANT ALL PRIVILEGES ON ${quoteName(likeLiteral(copy))}.* TO ?@?`, [user, host])
  } catch (error) {
    await admin.query('DROP USER IF EXISTS ?@?', [user, host]).catch(() => undefined)
    throw new RehearsalUserRefusedError(adminUser, errorMessage(error))
  }
  const { host: address, port } = admin.config
  let connection: Connection
  try {
    connection = await mysql.createConnection({ ...(address ? { host: address } : {}), ...(port ? { port } : {}), user, password, database: copy, ...CONNECTION_FLAGS })
  } catch (error) {
    await admin.query('DROP USER IF EXISTS ?@?', [user, host])
    throw new RehearsalUserRefusedError(adminUser, `connecting as the rehearsal user failed: ${errorMessage(error)}`)
  }
  let closed = false
  return {
    connection,
    async close() {
      if (closed) return
      closed = true
      await connection.end().catch(() => connection.destroy())
      await admin.query('DROP USER IF EXISTS ?@?', [user, host])
    },
  }
}

async function dropLeftoverUsers(admin: Connection): Promise<void> {
  const [rows] = await admin.query<RowDataPacket[]>(
    `SELECT u.User AS user, u.Host AS host FROM mysql.user u
      WHERE u.User LIKE ? AND NOT EXISTS (SELECT 1 FROM information_schema.schemata s WHERE s.schema_name = u.User)`,
    [`${likeLiteral(REHEARSAL_PREFIX)}%`],
  ).catch(() => [[] as RowDataPacket[]] as const)
  for (const row of rows) await admin.query('DROP USER IF EXISTS ?@?', [String(row.user), String(row.host)])
}

function likeLiteral(name: string): string {
  return name.replace(/[\\_%]/g, (ch) => `\\${ch}`)
}
