import type { RowDataPacket } from 'mysql2/promise'
import { HandoverError } from '../../errors.js'
import type { Connection } from '../connection.js'

export class LockHeldError extends HandoverError {
  readonly code = 'LOCK_HELD'

  constructor(
    readonly lockName: string,
    readonly holderConnectionId: string | null,
  ) {
    super(
      `another handover run holds ${lockName} (MySQL connection ${holderConnectionId ?? 'unknown'}); ` +
        'wait for it to finish, or check `handover status`',
    )
  }
}

/**
 * A MySQL named lock held on a dedicated connection for the whole run: two upgrades of one
 * service are impossible, from any host. GET_LOCK answers 1 (taken), 0 (timeout) or NULL
 * (error), never an exception, so anything but 1 is a refusal.
 */
export class ServiceLock {
  private held = false

  private constructor(
    private readonly connection: Connection,
    readonly name: string,
  ) {}

  static async acquire(connection: Connection, service: string): Promise<ServiceLock> {
    const name = `handover:${service}`
    const [rows] = await connection.query<LockRow[]>('SELECT GET_LOCK(?, 0) AS got', [name])
    if (String(rows[0]?.got) !== '1') {
      const [holder] = await connection.query<HolderRow[]>('SELECT IS_USED_LOCK(?) AS holder', [name])
      throw new LockHeldError(name, holder[0]?.holder === null || holder[0]?.holder === undefined ? null : String(holder[0].holder))
    }
    const lock = new ServiceLock(connection, name)
    lock.held = true
    return lock
  }

  async release(): Promise<void> {
    if (!this.held) return
    this.held = false
    await this.connection.query('SELECT RELEASE_LOCK(?)', [this.name])
  }
}

interface LockRow extends RowDataPacket {
  got: number | string | null
}
interface HolderRow extends RowDataPacket {
  holder: number | string | null
}
