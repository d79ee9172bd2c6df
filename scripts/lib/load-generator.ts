/**
 * A small HTTP load generator for the demo service (deploy/demo): N workers on keep-alive
 * connections write people, rename and delete earlier ones (old and new alike), and read
 * them back, bounded both in time and in request count. A person has at most one request
 * in flight, so the last acknowledged name is the one the service must answer with. It
 * records every failure a client would see (non-2xx, socket error, timeout, wrong data),
 * every row's last acknowledged state, and which slot/version served each response, so an
 * upgrade test can assert "no request failed and no write was lost".
 */
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import { quantileOfSorted } from './quantile.js'

export interface LoadOptions {
  /** e.g. http://127.0.0.1:8080 (a proxy or one slot); a path prefix is kept. */
  baseUrl: string
  /** Workers, each with at most one request in flight. */
  concurrency: number
  /** No new request starts after this; in-flight ones finish and are counted. */
  maxDurationMs: number
  /** No more than this many requests are sent in total. */
  maxRequests: number
  /** Share (0..1) of requests that are POST /people; the rest GET an earlier write. */
  postRatio: number
  /** Share (0..1) of requests that PUT a new name on an earlier write (default 0). */
  updateRatio?: number
  /** Share (0..1) of requests that DELETE an earlier write (default 0). */
  deleteRatio?: number
  /** People that exist before the run (e.g. seeded), renamed, deleted and read like the run's own. */
  knownRows?: WrittenRow[]
  /** A request not answered within this counts as a 'timeout' failure (default 10 000). */
  requestTimeoutMs?: number
  /** Makes this run's names unique across runs against one database (default: random). */
  runTag?: string
  /** How many failures are kept in full; all are counted (default 10). */
  maxFailureDetails?: number
}

export interface WrittenRow {
  id: number
  /** The last name the service acknowledged. */
  name: string
  /**
   * Renames sent since whose answer never came (the connection was cut): the client was not
   * told either way, so the row may hold one of them. A later acknowledged rename clears it.
   */
  maybe?: string[]
  /** A DELETE whose answer never came: the row may be gone. */
  maybeDeleted?: true
}

/** Whether `name` is a value the row may hold: the acknowledged one or a rename of unknown outcome. */
export function mayHold(row: WrittenRow, name: unknown): boolean {
  return name === row.name || (typeof name === 'string' && row.maybe?.includes(name) === true)
}

export type FailureKind = 'status' | 'socket' | 'timeout' | 'mismatch' | 'bad-response'

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

export interface LoadFailure {
  kind: FailureKind
  method: Method
  path: string
  /** Milliseconds since the load started. */
  atMs: number
  status?: number
  servedBy?: string
  /** The Retry-After header of a refused request: a 503 with it asks the client to try again, it is not an error page. */
  retryAfter?: string
  message: string
}

export interface LatencySummary {
  /** Responses the percentiles are computed over (requests that got a response). */
  count: number
  p50: number
  p99: number
  max: number
}

export interface VersionSpan {
  firstAtMs: number
  lastAtMs: number
}

export interface LoadReport {
  sent: number
  succeeded: number
  failed: number
  failuresByKind: Record<FailureKind, number>
  /** The first maxFailureDetails failures, in order. */
  failures: LoadFailure[]
  /** Every row a POST confirmed (and the known rows), not deleted, with its last acknowledged name. */
  written: WrittenRow[]
  /** Ids whose DELETE was acknowledged: the service must answer 404 for them. */
  deleted: number[]
  updates: number
  /** Responses per X-Served-By value ("blue/1"); '(none)' when the header was missing. */
  servedBy: Record<string, number>
  /** Responses per version (the part of X-Served-By after the slash). */
  versions: Record<string, number>
  /** When each version first and last answered, in ms since the start. */
  versionSpans: Record<string, VersionSpan>
  latencyMs: LatencySummary
  /** The longest time with no successful answer: from the start (or a success) to the next success, or to the end. */
  longestGapMs: number
  durationMs: number
  /** Why the run ended; 'running' in a progress() snapshot. */
  endedBy: 'stop' | 'duration' | 'requests' | 'running'
}

export interface LoadRun {
  /** Ends the run gracefully: no new requests, in-flight ones finish and are counted. */
  stop(): Promise<LoadReport>
  /** Settles when the run ends by itself (time or request bound) or after stop(). */
  done: Promise<LoadReport>
  /** A snapshot of the counters so far, e.g. to wait until traffic is flowing. */
  progress(): LoadReport
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
const DEFAULT_MAX_FAILURE_DETAILS = 10
const NO_SERVED_BY = '(none)'

export function startLoad(options: LoadOptions): LoadRun {
  validateOptions(options)
  const client = new HttpClient(options.baseUrl, options.concurrency, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
  const recorder = new Recorder(options.maxFailureDetails ?? DEFAULT_MAX_FAILURE_DETAILS, options.knownRows ?? [])
  const runTag = options.runTag ?? randomTag()
  const deadline = recorder.startedAt + options.maxDurationMs
  let nameCounter = 0

  /** Claims the next request slot, or says why the run is over. */
  const nextTurn = (): boolean => {
    if (recorder.endedBy !== 'running') return false
    if (recorder.sent >= options.maxRequests) recorder.end('requests')
    else if (Date.now() >= deadline) recorder.end('duration')
    if (recorder.endedBy !== 'running') return false
    recorder.sent++
    return true
  }

  const nextName = (): string => {
    nameCounter++
    return `Given${runTag}${nameCounter} Family${nameCounter}`
  }
  const updateRatio = options.updateRatio ?? 0
  const deleteRatio = options.deleteRatio ?? 0
  const worker = async (): Promise<void> => {
    while (nextTurn()) {
      const roll = Math.random()
      const row = recorder.claimRow()
      try {
        if (row === undefined || roll < options.postRatio) await postPerson(client, recorder, nextName())
        else if (roll < options.postRatio + updateRatio) await putPerson(client, recorder, row, nextName())
        else if (roll < options.postRatio + updateRatio + deleteRatio) await deletePerson(client, recorder, row)
        else await getPerson(client, recorder, row)
      } finally {
        if (row) recorder.releaseRow(row)
      }
    }
  }

  const done = Promise.all(Array.from({ length: options.concurrency }, worker)).then(() => {
    client.close()
    return recorder.report()
  })
  return {
    stop: () => {
      recorder.end('stop')
      return done
    },
    done,
    progress: () => recorder.report(),
  }
}

/** startLoad() and wait for it to end by its own bounds. */
export function runLoad(options: LoadOptions): Promise<LoadReport> {
  return startLoad(options).done
}

async function postPerson(client: HttpClient, recorder: Recorder, name: string): Promise<void> {
  const path = '/people'
  const response = await recorder.timed('POST', path, () => client.request('POST', path, { name }))
  if (!response) return
  if (response.status !== 201) return recorder.fail('status', 'POST', path, `expected 201, got ${response.status}: ${excerpt(response.body)}`, response)
  const body = parseJson(response.body)
  const id = body?.id
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
    return recorder.fail('bad-response', 'POST', path, `no numeric id in ${excerpt(response.body)}`, response)
  }
  if (body?.name !== name) return recorder.fail('mismatch', 'POST', path, `wrote "${name}", response says "${String(body?.name)}"`, response)
  recorder.succeed({ id, name })
}

/**
 * A server error does not say the write did not happen (the app may fail after its commit);
 * only the proxy's 503 with Retry-After says the request was never forwarded.
 */
function outcomeUnknown(response: HttpResponse): boolean {
  return response.status >= 500 && !(response.status === 503 && response.retryAfter !== undefined)
}

async function putPerson(client: HttpClient, recorder: Recorder, row: WrittenRow, name: string): Promise<void> {
  const path = `/people/${row.id}`
  const response = await recorder.timed('PUT', path, () => client.request('PUT', path, { name }))
  if (!response) return void (row.maybe = [...(row.maybe ?? []), name])
  if (outcomeUnknown(response)) row.maybe = [...(row.maybe ?? []), name]
  if (response.status !== 200) return recorder.fail('status', 'PUT', path, `expected 200, got ${response.status}: ${excerpt(response.body)}`, response)
  const body = parseJson(response.body)
  if (body?.id !== row.id || body?.name !== name) return recorder.fail('mismatch', 'PUT', path, `renamed to "${name}", response says ${excerpt(response.body)}`, response)
  recorder.renamed(row, name)
}

async function deletePerson(client: HttpClient, recorder: Recorder, row: WrittenRow): Promise<void> {
  const path = `/people/${row.id}`
  const response = await recorder.timed('DELETE', path, () => client.request('DELETE', path))
  if (!response) return void (row.maybeDeleted = true)
  if (outcomeUnknown(response)) row.maybeDeleted = true
  if (response.status !== 200) return recorder.fail('status', 'DELETE', path, `expected 200, got ${response.status}: ${excerpt(response.body)}`, response)
  recorder.deleted(row)
}

async function getPerson(client: HttpClient, recorder: Recorder, row: WrittenRow): Promise<void> {
  const path = `/people/${row.id}`
  const response = await recorder.timed('GET', path, () => client.request('GET', path))
  if (!response) return
  if (response.status === 404 && row.maybeDeleted) return recorder.deleted(row)
  if (response.status !== 200) return recorder.fail('status', 'GET', path, `expected 200, got ${response.status}: ${excerpt(response.body)}`, response)
  const body = parseJson(response.body)
  if (body?.id !== row.id || !mayHold(row, body?.name)) {
    return recorder.fail('mismatch', 'GET', path, `wrote "${row.name}", read ${excerpt(response.body)}`, response)
  }
  // What the service answers is now known: a rename of unknown outcome that it shows did happen.
  if (body.name !== row.name) recorder.settled(row, String(body.name))
  else recorder.succeed()
}

export interface VerifyResult {
  checked: number
  /** Rows the service answers 404 for: lost writes. */
  missing: WrittenRow[]
  /** Deleted rows the service still answers for: lost deletes. */
  undeleted: number[]
  /** Rows that exist with another name. */
  wrong: Array<{ row: WrittenRow; got: string }>
  /** Rows that could not be checked (non-200/404, socket error, bad JSON). */
  errors: Array<{ row: WrittenRow; message: string }>
}

/** Reads every row back through the service and compares names (after the load, e.g. after an upgrade). */
export async function verifyRows(
  baseUrl: string,
  rows: WrittenRow[],
  options: { concurrency?: number; requestTimeoutMs?: number; deleted?: number[] } = {},
): Promise<VerifyResult> {
  const concurrency = options.concurrency ?? 8
  const client = new HttpClient(baseUrl, concurrency, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
  const result: VerifyResult = { checked: 0, missing: [], undeleted: [], wrong: [], errors: [] }
  const deleted = options.deleted ?? []
  let next = 0
  let nextDeleted = 0
  const worker = async (): Promise<void> => {
    while (next < rows.length) {
      const row = rows[next++]!
      await verifyRow(client, row, result)
      result.checked++
    }
    while (nextDeleted < deleted.length) {
      const id = deleted[nextDeleted++]!
      await verifyDeleted(client, id, result)
      result.checked++
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, rows.length + deleted.length)) }, worker))
  } finally {
    client.close()
  }
  return result
}

async function verifyRow(client: HttpClient, row: WrittenRow, result: VerifyResult): Promise<void> {
  try {
    const response = await client.request('GET', `/people/${row.id}`)
    if (response.status === 404) return void (row.maybeDeleted ? undefined : result.missing.push(row))
    if (response.status !== 200) return void result.errors.push({ row, message: `status ${response.status}: ${excerpt(response.body)}` })
    const body = parseJson(response.body)
    if (typeof body?.name !== 'string') return void result.errors.push({ row, message: `no name in ${excerpt(response.body)}` })
    if (!mayHold(row, body.name)) result.wrong.push({ row, got: body.name })
  } catch (error) {
    result.errors.push({ row, message: errorMessage(error) })
  }
}

async function verifyDeleted(client: HttpClient, id: number, result: VerifyResult): Promise<void> {
  try {
    const response = await client.request('GET', `/people/${id}`)
    if (response.status === 200) result.undeleted.push(id)
    else if (response.status !== 404) result.errors.push({ row: { id, name: '(deleted)' }, message: `status ${response.status}: ${excerpt(response.body)}` })
  } catch (error) {
    result.errors.push({ row: { id, name: '(deleted)' }, message: errorMessage(error) })
  }
}

/** A few human-readable lines for logs and the demo script. */
export function formatReport(report: LoadReport): string {
  const { latencyMs: l } = report
  const lines = [
    `${report.sent} requests in ${(report.durationMs / 1000).toFixed(1)} s (ended by ${report.endedBy}): ` +
      `${report.succeeded} ok, ${report.failed} failed, ${report.written.length} rows held, ${report.updates} renamed, ${report.deleted.length} deleted`,
    `latency p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms`,
    `served by: ${Object.entries(report.servedBy).map(([by, n]) => `${by} ${n}`).join(', ') || 'nobody'}`,
  ]
  for (const f of report.failures) {
    lines.push(`  failure at ${f.atMs} ms: ${f.kind} ${f.method} ${f.path}${f.servedBy ? ` (${f.servedBy})` : ''}: ${f.message}`)
  }
  if (report.failed > report.failures.length) lines.push(`  ... and ${report.failed - report.failures.length} more failures`)
  return lines.join('\n')
}

interface HttpResponse {
  status: number
  servedBy: string | undefined
  retryAfter?: string
  body: string
}

class RequestTimeoutError extends Error {}

/** node:http with one keep-alive Agent, like a long-lived API client. */
class HttpClient {
  private readonly agent: http.Agent
  private readonly base: URL

  constructor(
    baseUrl: string,
    maxSockets: number,
    private readonly timeoutMs: number,
  ) {
    this.base = new URL(baseUrl)
    if (this.base.protocol !== 'http:') throw new RangeError(`baseUrl must be http://, got ${baseUrl}`)
    this.agent = new http.Agent({ keepAlive: true, maxSockets })
  }

  request(method: Method, path: string, body?: unknown): Promise<HttpResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base)
    return new Promise((resolve, reject) => {
      const req = http.request(url, {
        method,
        agent: this.agent,
        headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      })
      const timer = setTimeout(() => req.destroy(new RequestTimeoutError(`no response within ${this.timeoutMs} ms`)), this.timeoutMs)
      req.on('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
      req.on('response', (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject) // reached when the timeout destroys a half-read response
        res.on('end', () => {
          clearTimeout(timer)
          const servedBy = res.headers['x-served-by']
          const retryAfter = res.headers['retry-after']
          resolve({ status: res.statusCode ?? 0, servedBy: Array.isArray(servedBy) ? servedBy[0] : servedBy, ...(retryAfter ? { retryAfter } : {}), body: Buffer.concat(chunks).toString('utf8') })
        })
      })
      req.end(payload)
    })
  }

  close(): void {
    this.agent.destroy()
  }
}

/** All counters of a run; workers call it, report() copies it out. */
class Recorder {
  readonly startedAt = Date.now()
  sent = 0
  endedBy: LoadReport['endedBy'] = 'running'
  private endedAt: number | undefined
  private succeeded = 0
  private failed = 0
  private readonly failuresByKind: Record<FailureKind, number> = { status: 0, socket: 0, timeout: 0, mismatch: 0, 'bad-response': 0 }
  private readonly failures: LoadFailure[] = []
  /** Rows not deleted; the first `idle` of them have no request in flight. */
  private readonly rows: WrittenRow[]
  private idle: number
  private readonly deletedIds: number[] = []
  private updates = 0
  private readonly servedBy = new Map<string, number>()
  private readonly versionSpans = new Map<string, VersionSpan>()
  private readonly latencies: number[] = []
  private lastSuccessAt = Date.now()
  private longestGapMs = 0

  constructor(
    private readonly maxFailureDetails: number,
    knownRows: WrittenRow[],
  ) {
    this.rows = knownRows.map((row) => ({ ...row }))
    this.idle = this.rows.length
  }

  end(reason: Exclude<LoadReport['endedBy'], 'running'>): void {
    if (this.endedBy !== 'running') return
    this.endedBy = reason
    this.endedAt = Date.now()
  }

  /** A random row with no request in flight, now marked busy until releaseRow(). */
  claimRow(): WrittenRow | undefined {
    if (this.idle === 0) return undefined
    const index = Math.floor(Math.random() * this.idle)
    const row = this.rows[index]!
    this.idle--
    this.swap(index, this.idle)
    return row
  }

  releaseRow(row: WrittenRow): void {
    const index = this.rows.indexOf(row, this.idle)
    if (index === -1) return // deleted meanwhile
    this.swap(index, this.idle)
    this.idle++
  }

  renamed(row: WrittenRow, name: string): void {
    this.succeeded++
    this.successAt()
    this.updates++
    row.name = name
    delete row.maybe
    delete row.maybeDeleted
  }

  /** A read showed a rename whose answer was lost: the row holds it now. */
  settled(row: WrittenRow, name: string): void {
    this.succeeded++
    this.successAt()
    row.name = name
    delete row.maybe
  }

  deleted(row: WrittenRow): void {
    this.succeeded++
    this.successAt()
    const index = this.rows.indexOf(row, this.idle)
    if (index !== -1) this.rows.splice(index, 1)
    this.deletedIds.push(row.id)
  }

  private successAt(): void {
    const now = Date.now()
    this.longestGapMs = Math.max(this.longestGapMs, now - this.lastSuccessAt)
    this.lastSuccessAt = now
  }

  private swap(a: number, b: number): void {
    const row = this.rows[a]!
    this.rows[a] = this.rows[b]!
    this.rows[b] = row
  }

  /** Runs one request; records its latency and who served it, or a socket/timeout failure (then returns undefined). */
  async timed(method: Method, path: string, send: () => Promise<HttpResponse>): Promise<HttpResponse | undefined> {
    const started = performance.now()
    try {
      const response = await send()
      this.latencies.push(performance.now() - started)
      this.countServedBy(response.servedBy)
      return response
    } catch (error) {
      const kind = error instanceof RequestTimeoutError ? 'timeout' : 'socket'
      this.fail(kind, method, path, errorMessage(error))
      return undefined
    }
  }

  succeed(row?: WrittenRow): void {
    this.succeeded++
    this.successAt()
    if (row) {
      // A new row goes in among the idle ones: swap the first busy one out to the end.
      this.rows.push(row)
      this.swap(this.idle, this.rows.length - 1)
      this.idle++
    }
  }

  fail(kind: FailureKind, method: Method, path: string, message: string, response?: HttpResponse): void {
    this.failed++
    this.failuresByKind[kind]++
    if (this.failures.length >= this.maxFailureDetails) return
    const failure: LoadFailure = { kind, method, path, atMs: Date.now() - this.startedAt, message }
    if (response) {
      failure.status = response.status
      if (response.servedBy) failure.servedBy = response.servedBy
      if (response.retryAfter) failure.retryAfter = response.retryAfter
    }
    this.failures.push(failure)
  }

  private countServedBy(header: string | undefined): void {
    const key = header ?? NO_SERVED_BY
    this.servedBy.set(key, (this.servedBy.get(key) ?? 0) + 1)
    const version = header?.split('/')[1] ?? NO_SERVED_BY
    const at = Date.now() - this.startedAt
    const span = this.versionSpans.get(version)
    if (span) span.lastAtMs = at
    else this.versionSpans.set(version, { firstAtMs: at, lastAtMs: at })
  }

  report(): LoadReport {
    const versions: Record<string, number> = {}
    for (const [by, count] of this.servedBy) {
      const version = by === NO_SERVED_BY ? NO_SERVED_BY : (by.split('/')[1] ?? NO_SERVED_BY)
      versions[version] = (versions[version] ?? 0) + count
    }
    return {
      sent: this.sent,
      succeeded: this.succeeded,
      failed: this.failed,
      failuresByKind: { ...this.failuresByKind },
      failures: this.failures.map((f) => ({ ...f })),
      written: this.rows.map((row) => ({ ...row })),
      deleted: [...this.deletedIds],
      updates: this.updates,
      servedBy: Object.fromEntries(this.servedBy),
      versions,
      versionSpans: Object.fromEntries([...this.versionSpans].map(([v, span]) => [v, { ...span }])),
      latencyMs: summarizeLatencies(this.latencies),
      longestGapMs: Math.max(this.longestGapMs, (this.endedAt ?? Date.now()) - this.lastSuccessAt),
      durationMs: (this.endedAt ?? Date.now()) - this.startedAt,
      endedBy: this.endedBy,
    }
  }
}

function summarizeLatencies(latencies: number[]): LatencySummary {
  if (latencies.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 }
  const sorted = [...latencies].sort((a, b) => a - b)
  return { count: sorted.length, p50: quantileOfSorted(sorted, 0.5), p99: quantileOfSorted(sorted, 0.99), max: sorted[sorted.length - 1]! }
}

function validateOptions(o: LoadOptions): void {
  const positiveInteger = (name: string, value: number): void => {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  }
  positiveInteger('concurrency', o.concurrency)
  positiveInteger('maxRequests', o.maxRequests)
  if (!(o.maxDurationMs > 0)) throw new RangeError(`maxDurationMs must be positive, got ${o.maxDurationMs}`)
  for (const [name, value] of [['postRatio', o.postRatio], ['updateRatio', o.updateRatio ?? 0], ['deleteRatio', o.deleteRatio ?? 0]] as const) {
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be within 0..1, got ${value}`)
  }
  if (o.postRatio + (o.updateRatio ?? 0) + (o.deleteRatio ?? 0) > 1) throw new RangeError('postRatio + updateRatio + deleteRatio must be at most 1')
}

/** Letters only, so a name stays one word before the space (v2 splits at the first space). */
function randomTag(): string {
  return Array.from(randomBytes(6), (b) => String.fromCharCode(97 + (b % 26))).join('')
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

function excerpt(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text
}

function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as NodeJS.ErrnoException).code
  return code ? `${code}: ${error.message}` : error.message
}
