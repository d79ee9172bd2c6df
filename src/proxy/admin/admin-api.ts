/**
 * The agent's admin API: JSON over HTTP on a unix socket that only the agent's user can
 * open (mode 0600, and created so: never world-writable for a moment), and optionally on
 * TCP, where every request must carry the admin token (admin-auth.ts), over TLS unless the
 * listener is on loopback or the operator said --admin-insecure-tcp. Logs name a request's
 * path, never its query string: a client may have put the token there. Errors answer `{"error":{"code","message"}}` with a status derived
 * from the error's stable code, so the client can rebuild a typed error.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import { connect, isIP } from 'node:net'
import { chmod, lstat, mkdir, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { errorMessage, HandoverError, InvalidInputError } from '../../errors.js'
import type { AdminToken } from './admin-auth.js'
import type { Endpoint } from './admin-endpoints.js'
import { AgentAlreadyRunningError, BodyTooLargeError, InsecureAdminListenerError, ListenError, NoSuchEndpointError } from '../errors.js'
import { bind, bindPrivately, closeNow } from '../upstream/listener.js'
import type { Logger } from '../log.js'

const MAX_BODY_BYTES = 1024 * 1024

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  INVALID_INPUT: 400,
  SERVICE_NOT_FOUND: 404,
  SCHEDULE_NOT_FOUND: 404,
  NO_SUCH_ENDPOINT: 404,
  ILLEGAL_TRANSITION: 409,
  LISTEN_FAILED: 409,
  BODY_TOO_LARGE: 413,
}

export interface AdminApi {
  close(): Promise<void>
}

export interface TcpAdminApi extends AdminApi {
  /** The bound port (the actual one when 0 was asked for). */
  readonly port: number
}

/** How the TCP admin listener protects the token on the wire. */
export interface AdminTransport {
  /** PEM certificate and key: the listener speaks HTTPS. */
  tls?: { cert: string | Buffer; key: string | Buffer }
  /** Plain HTTP on a non-loopback address, accepted only when the operator says so. */
  insecure?: boolean
}

/** Throws when a TCP admin listener on `host` would carry the token in clear text over a network. */
export function checkAdminTransport(host: string, port: number, transport: AdminTransport = {}): void {
  if (transport.tls === undefined && !transport.insecure && !isLoopback(host)) throw new InsecureAdminListenerError(`${host}:${port}`)
}

/**
 * The admin API on TCP: refused (401) without the token, before the endpoint is even looked
 * up. Without TLS it listens only on a loopback address, unless `transport.insecure`.
 */
export async function startTcpAdminApi(
  host: string,
  port: number,
  token: AdminToken,
  endpoints: readonly Endpoint[],
  log: Logger,
  transport: AdminTransport = {},
): Promise<TcpAdminApi> {
  checkAdminTransport(host, port, transport)
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (token.allows(req.headers)) {
      void handle(req, res, endpoints, log)
      return
    }
    log({ level: 'warn', msg: 'admin request without a valid token refused', remote: req.socket.remoteAddress, method: req.method, path: pathOf(req.url) })
    req.resume()
    send(res, 401, { error: { code: 'UNAUTHORIZED', message: 'missing or wrong admin token: send Authorization: Bearer <token>' } })
  }
  const server = transport.tls === undefined ? http.createServer(listener) : https.createServer({ cert: transport.tls.cert, key: transport.tls.key }, listener)
  if (transport.tls === undefined && !isLoopback(host)) log({ level: 'warn', msg: 'admin API on TCP without TLS (--admin-insecure-tcp): the token crosses the network in clear text', listen: `${host}:${port}` })
  let bound: number
  try {
    bound = await bind(server, host, port)
  } catch (error) {
    throw new ListenError('admin API', `${host}:${port}`, error)
  }
  return {
    port: bound,
    close: () => closeNow(server),
  }
}

export async function startAdminApi(socketPath: string, endpoints: readonly Endpoint[], log: Logger): Promise<AdminApi> {
  await clearSocketPath(socketPath)
  const server = http.createServer((req, res) => void handle(req, res, endpoints, log))
  await bindPrivately(server, socketPath)
  // Already 0600 from the bind; this also covers a filesystem that ignores the umask.
  await chmod(socketPath, 0o600)
  return {
    close: async () => {
      await closeNow(server)
      await rm(socketPath, { force: true })
    },
  }
}

/**
 * Creates the socket's directory and removes a socket file left by a dead agent. A live
 * agent on the path, or a file that is not a socket, is never removed.
 */
async function clearSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
  if (stat === undefined) return
  if (!stat.isSocket()) throw new InvalidInputError(path, 'exists and is not a unix socket; refusing to replace it with the admin socket')
  if (await answers(path)) throw new AgentAlreadyRunningError(path)
  await rm(path, { force: true })
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

async function handle(req: IncomingMessage, res: ServerResponse, endpoints: readonly Endpoint[], log: Logger): Promise<void> {
  try {
    const { endpoint, params } = route(req, endpoints)
    const body = await readJson(req)
    send(res, 200, await endpoint.run(params, body))
  } catch (error) {
    if (!(error instanceof HandoverError)) log({ level: 'error', msg: 'admin request failed', method: req.method, path: pathOf(req.url), error: String(error) })
    const code = error instanceof HandoverError ? error.code : 'INTERNAL'
    const message = errorMessage(error)
    send(res, STATUS_BY_CODE[code] ?? 500, { error: { code, message } })
  }
}

/** The URL's path: its query string may carry what must never be logged (a token). */
function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?')[0]!
}

/** An address only this host can reach: 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '::ffff:127.0.0.1') return true
  return isIP(host) === 4 && host.startsWith('127.')
}

function route(req: IncomingMessage, endpoints: readonly Endpoint[]): { endpoint: Endpoint; params: string[] } {
  const path = pathOf(req.url)
  for (const endpoint of endpoints) {
    if (endpoint.method !== req.method) continue
    const match = endpoint.path.exec(path)
    if (match !== null) return { endpoint, params: match.slice(1).map(decode) }
  }
  throw new NoSuchEndpointError(req.method ?? '?', path)
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    throw new InvalidInputError('path', `"${part}" is not valid percent-encoding`)
  }
}

/** Undefined for an empty body; the endpoint decides whether it needs one. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError(MAX_BODY_BYTES)
    chunks.push(chunk)
  }
  if (size === 0) return undefined
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
  } catch (error) {
    throw new InvalidInputError('body', `not valid JSON (${(error as Error).message})`)
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
}
