/**
 * The admin API's token check when it listens on TCP (the unix socket is protected by its
 * file mode instead). Both sides are hashed first, so the comparison is constant-time and
 * of equal length whatever the client sends; the token itself never reaches a log, an
 * error message or a metric.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import type { IncomingHttpHeaders } from 'node:http'
import { InvalidInputError } from '../../errors.js'

export const ADMIN_TOKEN_ENV = 'HANDOVER_ADMIN_TOKEN'
export const MIN_TOKEN_LENGTH = 16

export class AdminToken {
  private readonly digest: Buffer

  /** `where` names the source (env variable or file) in errors, never the value. */
  constructor(token: string, where: string) {
    if (token.length < MIN_TOKEN_LENGTH) throw new InvalidInputError(where, `the admin token must be at least ${MIN_TOKEN_LENGTH} characters`)
    if (/\s/.test(token)) throw new InvalidInputError(where, 'the admin token must not contain whitespace')
    this.digest = sha256(token)
  }

  /** True when the request carries `Authorization: Bearer <token>`. */
  allows(headers: IncomingHttpHeaders): boolean {
    const value = headers.authorization
    const presented = typeof value === 'string' && value.startsWith('Bearer ') ? value.slice(7) : ''
    return timingSafeEqual(sha256(presented), this.digest)
  }

  /** Never print the token, even by accident. */
  toJSON(): string {
    return '[admin token]'
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/**
 * From a file (one line; a trailing newline is dropped) or else from HANDOVER_ADMIN_TOKEN.
 * A file that group or others may read or write is refused: the token would not be the
 * agent user's secret any more.
 */
export async function loadAdminToken(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<AdminToken> {
  if (file !== undefined) {
    let text: string
    try {
      const mode = (await stat(file)).mode & 0o777
      if ((mode & 0o077) !== 0) {
        throw new InvalidInputError('--admin-token-file', `${file} has mode ${mode.toString(8).padStart(4, '0')}: group or others may read it; chmod 600 it`)
      }
      text = await readFile(file, 'utf8')
    } catch (error) {
      if (error instanceof InvalidInputError) throw error
      throw new InvalidInputError('--admin-token-file', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
    }
    return new AdminToken(text.replace(/\r?\n$/, ''), `--admin-token-file ${file}`)
  }
  const value = env[ADMIN_TOKEN_ENV]
  if (value === undefined || value === '') {
    throw new InvalidInputError('--admin-listen', `a TCP admin listener needs a token: set ${ADMIN_TOKEN_ENV} or pass --admin-token-file`)
  }
  return new AdminToken(value, ADMIN_TOKEN_ENV)
}
