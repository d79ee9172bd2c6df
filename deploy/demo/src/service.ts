/**
 * The shared runtime of the demo service: configuration, the database pool, the HTTP
 * server with its routes, and graceful shutdown. Only the data access differs between
 * versions (see v1.ts and v2.ts); each image's entry point hands its store to runService().
 */
import http from 'node:http'
import { readFileSync } from 'node:fs'
import { createPool, type Pool } from 'mysql2/promise'

/** What a client sees of a person, whatever columns the schema stores it in. */
export interface PersonView {
  id: number
  name: string
  [extra: string]: unknown
}

/** The version-specific part: how a person is validated, written and read. */
export interface PeopleStore<Input> {
  /** Validates a POST /people body; throws BadRequestError when it is unusable. */
  parseNewPerson(body: unknown): Input
  insert(input: Input): Promise<PersonView>
  /** Replaces a person's name; null when there is no such person. */
  update(id: number, input: Input): Promise<PersonView | null>
  /** False when there was no such person. */
  remove(id: number): Promise<boolean>
  findById(id: number): Promise<PersonView | null>
}

export type StoreFactory<Input> = (pool: Pool) => PeopleStore<Input>

export interface ServiceConfig {
  port: number
  slot: string
  version: string
  db: { host: string; port: number; user: string; password: string; database: string }
  /** After SIGTERM, the longest we wait for in-flight requests before exiting anyway. */
  shutdownTimeoutMs: number
}

/** A problem with the request itself: answered with 4xx and the message, never logged as an error. */
export class BadRequestError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message)
    this.name = 'BadRequestError'
  }
}

const MAX_BODY_BYTES = 64 * 1024
const MAX_SLOW_MS = 10_000
const HEALTH_QUERY_TIMEOUT_MS = 2_000
// Longer than any proxy's idle timeout (nginx 60 s, Node's agent 4-5 s): the client side
// closes an idle keep-alive socket first, so we never close one it is about to reuse.
const KEEP_ALIVE_TIMEOUT_MS = 65_000
// Must exceed keepAliveTimeout, or Node may cut a connection that is merely idle.
const HEADERS_TIMEOUT_MS = 66_000

export function readConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  return {
    port: readPort(env, 'PORT'),
    slot: env.HANDOVER_SLOT || 'none',
    version: env.APP_VERSION || 'dev',
    db: {
      host: env.DB_HOST || '127.0.0.1',
      port: env.DB_PORT ? readPort(env, 'DB_PORT') : 3306,
      user: required(env, 'DB_USER'),
      password: readPassword(env),
      database: required(env, 'DB_NAME'),
    },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS ? readPositiveInteger(env, 'SHUTDOWN_TIMEOUT_MS') : 20_000,
  }
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]
  if (!value) throw new Error(`environment variable ${name} is required`)
  return value
}

function readPort(env: NodeJS.ProcessEnv, name: string): number {
  const port = Number(required(env, name))
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`environment variable ${name} must be a port number (1-65535), got "${env[name]}"`)
  }
  return port
}

function readPositiveInteger(env: NodeJS.ProcessEnv, name: string): number {
  const value = Number(env[name])
  if (!Number.isInteger(value) || value <= 0) throw new Error(`environment variable ${name} must be a positive integer, got "${env[name]}"`)
  return value
}

/** DB_PASSWORD_FILE wins over DB_PASSWORD, so a deployment can keep the secret out of `docker inspect`. */
function readPassword(env: NodeJS.ProcessEnv): string {
  if (env.DB_PASSWORD_FILE) return readFileSync(env.DB_PASSWORD_FILE, 'utf8').replace(/\r?\n$/, '')
  return env.DB_PASSWORD ?? ''
}

/** One JSON line per event on stdout, which `docker logs` keeps. */
export function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }) + '\n')
}

export function createDbPool(db: ServiceConfig['db']): Pool {
  return createPool({
    ...db,
    connectionLimit: 10,
    waitForConnections: true,
    // Fail a request in seconds when the database is unreachable instead of hanging.
    connectTimeout: 5_000,
    enableKeepAlive: true,
  })
}

/** Starts the service and installs the signal handlers; resolves once it listens. */
export async function runService<Input>(createStore: StoreFactory<Input>, config = readConfig()): Promise<http.Server> {
  const pool = createDbPool(config.db)
  const state: ServiceState = { draining: false, inFlight: 0 }
  const routes = buildRoutes(createStore(pool), pool, config, state)
  const server = http.createServer((req, res) => void handleRequest(req, res, routes, config, state))
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
  server.headersTimeout = HEADERS_TIMEOUT_MS
  installShutdown(server, pool, config, state)
  await listen(server, config.port)
  log('listening', { port: config.port, slot: config.slot, version: config.version, db: `${config.db.host}:${config.db.port}/${config.db.database}` })
  return server
}

function listen(server: http.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    // Loopback only: containers use host networking and traffic arrives through the local proxy.
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
}

interface ServiceState {
  draining: boolean
  inFlight: number
}

interface Reply {
  status: number
  body: unknown
}

interface RequestContext {
  req: http.IncomingMessage
  url: URL
  params: string[]
}

interface Route {
  method: string
  path: RegExp
  handle(ctx: RequestContext): Promise<Reply>
}

function buildRoutes<Input>(store: PeopleStore<Input>, pool: Pool, config: ServiceConfig, state: ServiceState): Route[] {
  return [
    { method: 'GET', path: /^\/healthz$/, handle: () => checkHealth(pool, state) },
    { method: 'GET', path: /^\/version$/, handle: async () => ({ status: 200, body: { version: config.version, slot: config.slot } }) },
    {
      method: 'POST',
      path: /^\/people$/,
      handle: async ({ req }) => {
        const input = store.parseNewPerson(await readJsonBody(req))
        const person = await store.insert(input)
        return { status: 201, body: { ...person, version: config.version } }
      },
    },
    {
      method: 'GET',
      path: /^\/people\/(\d{1,15})$/,
      handle: async ({ params }) => {
        const person = await store.findById(Number(params[0]))
        if (!person) return { status: 404, body: { error: 'not found' } }
        return { status: 200, body: { ...person, version: config.version } }
      },
    },
    {
      method: 'PUT',
      path: /^\/people\/(\d{1,15})$/,
      handle: async ({ req, params }) => {
        const input = store.parseNewPerson(await readJsonBody(req))
        const person = await store.update(Number(params[0]), input)
        if (!person) return { status: 404, body: { error: 'not found' } }
        return { status: 200, body: { ...person, version: config.version } }
      },
    },
    {
      method: 'DELETE',
      path: /^\/people\/(\d{1,15})$/,
      handle: async ({ params }) => {
        if (!(await store.remove(Number(params[0])))) return { status: 404, body: { error: 'not found' } }
        return { status: 200, body: { deleted: Number(params[0]), version: config.version } }
      },
    },
    { method: 'GET', path: /^\/slow$/, handle: ({ url }) => sleepThenAnswer(url) },
  ]
}

async function handleRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  routes: Route[],
  config: ServiceConfig,
  state: ServiceState,
): Promise<void> {
  state.inFlight++
  res.once('close', () => state.inFlight--)
  let reply: Reply
  try {
    reply = await dispatch(req, routes)
  } catch (error) {
    reply = errorReply(error, req)
  }
  send(res, reply, config, state)
}

async function dispatch(req: http.IncomingMessage, routes: Route[]): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://service.invalid')
  const matching = routes.filter((route) => route.path.test(url.pathname))
  if (matching.length === 0) return { status: 404, body: { error: 'not found' } }
  const route = matching.find((candidate) => candidate.method === req.method)
  if (!route) return { status: 405, body: { error: `method ${req.method} not allowed` } }
  const params = route.path.exec(url.pathname)!.slice(1)
  return route.handle({ req, url, params })
}

function errorReply(error: unknown, req: http.IncomingMessage): Reply {
  if (error instanceof BadRequestError) return { status: error.status, body: { error: error.message } }
  const message = error instanceof Error ? error.message : String(error)
  log('request-failed', { method: req.method, url: req.url, error: message })
  // An unreachable database is temporary (503: retry elsewhere or later); anything else is our bug.
  return { status: isConnectionFailure(error) ? 503 : 500, body: { error: message } }
}

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR'])

function isConnectionFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, fatal } = error as { code?: unknown; fatal?: unknown }
  return fatal === true || (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code))
}

function send(res: http.ServerResponse, reply: Reply, config: ServiceConfig, state: ServiceState): void {
  const payload = JSON.stringify(reply.body)
  res.statusCode = reply.status
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(payload))
  res.setHeader('X-Served-By', `${config.slot}/${config.version}`)
  // While draining, tell the client not to reuse this connection: Node then closes it after
  // this response, and the client opens its next request elsewhere instead of to a closing server.
  if (state.draining) res.setHeader('Connection', 'close')
  res.end(payload)
}

async function checkHealth(pool: Pool, state: ServiceState): Promise<Reply> {
  if (state.draining) return { status: 503, body: { status: 'draining' } }
  try {
    await withTimeout(pool.query('SELECT 1'), HEALTH_QUERY_TIMEOUT_MS, 'database did not answer SELECT 1')
    return { status: 200, body: { status: 'ok' } }
  } catch (error) {
    return { status: 503, body: { status: 'unavailable', error: error instanceof Error ? error.message : String(error) } }
  }
}

async function sleepThenAnswer(url: URL): Promise<Reply> {
  const ms = Number(url.searchParams.get('ms') ?? '0')
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_SLOW_MS) {
    throw new BadRequestError(`ms must be an integer from 0 to ${MAX_SLOW_MS}`)
  }
  await new Promise((resolve) => setTimeout(resolve, ms))
  return { status: 200, body: { slept: ms } }
}

function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new BadRequestError(`body larger than ${MAX_BODY_BYTES} bytes`, 413))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('error', reject)
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      } catch {
        reject(new BadRequestError('body is not valid JSON'))
      }
    })
  })
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * SIGTERM (docker stop) and SIGINT: stop accepting, let in-flight requests finish, then
 * close the pool and exit 0. Without this, node as PID 1 ignores SIGTERM and docker
 * waits out its whole grace period before killing us mid-request.
 */
function installShutdown(server: http.Server, pool: Pool, config: ServiceConfig, state: ServiceState): void {
  const shutdown = (signal: NodeJS.Signals): void => {
    if (state.draining) {
      log('shutdown-already-in-progress', { signal, inFlight: state.inFlight })
      return
    }
    state.draining = true
    log('shutdown-started', { signal, inFlight: state.inFlight })
    forceExitAfter(server, config.shutdownTimeoutMs, state)
    // close() stops accepting and fires its callback once every connection has ended;
    // connections serving a request end after their response (it carries Connection: close).
    server.close(() => void finishShutdown(pool))
    server.closeIdleConnections()
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
}

function forceExitAfter(server: http.Server, ms: number, state: ServiceState): void {
  const timer = setTimeout(() => {
    log('shutdown-forced', { afterMs: ms, inFlight: state.inFlight })
    server.closeAllConnections()
    process.exit(1)
  }, ms)
  // The timer alone must not keep the process alive once everything else has closed.
  timer.unref()
}

async function finishShutdown(pool: Pool): Promise<void> {
  try {
    await pool.end()
  } catch (error) {
    log('pool-close-failed', { error: error instanceof Error ? error.message : String(error) })
  }
  log('shutdown-complete')
  process.exit(0)
}

/** The entry points' main: a bad configuration exits 2 with one readable line, not a stack. */
export function main<Input>(createStore: StoreFactory<Input>): void {
  let config: ServiceConfig
  try {
    config = readConfig()
  } catch (error) {
    log('invalid-configuration', { error: error instanceof Error ? error.message : String(error) })
    process.exit(2)
  }
  runService(createStore, config).catch((error: unknown) => {
    log('start-failed', { error: error instanceof Error ? error.message : String(error) })
    process.exit(1)
  })
}
