/**
 * How `handover` commands talk to the agent: JSON over the agent's unix socket, or over TCP
 * with the admin token (never logged, never part of an error). Every
 * failure is typed: the agent is not there (AgentUnreachableError), did not answer in
 * time (TimeoutError), or refused (AgentRequestError, with the agent's own error code).
 */
import http from 'node:http'
import https from 'node:https'
import { TimeoutError } from '../errors.js'
import type { UpgradeEvent } from './events.js'
import type { RunLease, WatchedRun } from './run-leases.js'
import { AgentRequestError, AgentUnreachableError } from './admin-errors.js'
import type { ScheduleSpec, ScheduleView } from './schedules.js'
import type { DrainResult, ReleaseResult, ServiceRoute, ServiceStatus, SlotName, SlotState } from './routes.js'

export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 15

/** The agent's TCP admin listener and the token it wants. */
export interface AdminTcpTarget {
  host: string
  port: number
  token: string
  /** The CA (PEM) that signed the agent's --admin-tls-cert; with it the client speaks HTTPS. */
  ca?: string | Buffer
}

export class AdminClient {
  /**
   * With `tcp`, requests go there with the token and `socketPath` is unused. With
   * `reconnectSeconds`, a request that fails because the agent is gone (no socket, refused,
   * cut off while it answered: it is restarting) is sent again for that long. Every admin
   * request may be sent twice: reads and waits change nothing, a slot may be put in the state
   * it has (slot-state.ts), and a restarted agent has its routes, not its earlier requests.
   */
  constructor(
    readonly socketPath: string,
    private readonly timeoutSeconds = DEFAULT_REQUEST_TIMEOUT_SECONDS,
    private readonly tcp?: AdminTcpTarget,
    private readonly reconnectSeconds = 0,
  ) {}

  /** The same agent, waited for up to `seconds` while it restarts (systemd brings it back in about a second). */
  waitingForRestart(seconds: number): AdminClient {
    return new AdminClient(this.socketPath, this.timeoutSeconds, this.tcp, seconds)
  }

  static overTcp(target: AdminTcpTarget, timeoutSeconds = DEFAULT_REQUEST_TIMEOUT_SECONDS): AdminClient {
    return new AdminClient(`${target.host}:${target.port}`, timeoutSeconds, target)
  }

  async health(): Promise<void> {
    await this.call('GET', '/v1/health')
  }

  async listServices(): Promise<ServiceStatus[]> {
    return ((await this.call('GET', '/v1/services')) as { services: ServiceStatus[] }).services
  }

  async getService(name: string, signal?: AbortSignal): Promise<ServiceStatus> {
    return (await this.call('GET', servicePath(name), undefined, { signal })) as ServiceStatus
  }

  /** Registers the service, or replaces its route (slot state changes must be legal transitions). */
  async putService(route: ServiceRoute, signal?: AbortSignal): Promise<ServiceStatus> {
    return (await this.call('PUT', servicePath(route.name), route, { signal })) as ServiceStatus
  }

  async deleteService(name: string): Promise<void> {
    await this.call('DELETE', servicePath(name))
  }

  async setSlotState(service: string, slot: SlotName, state: SlotState, signal?: AbortSignal): Promise<void> {
    await this.call('PUT', `${servicePath(service)}/slots/${slot}/state`, { state }, { signal })
  }

  /** `to` starts buffering new requests; the other slot, if active, starts draining. */
  async flip(service: string, to: SlotName, signal?: AbortSignal): Promise<void> {
    await this.call('POST', `${servicePath(service)}/flip`, { to }, { signal })
  }

  /** `to` becomes active and receives the held requests; returns how many were released. */
  async release(service: string, to: SlotName, signal?: AbortSignal): Promise<ReleaseResult> {
    return (await this.call('POST', `${servicePath(service)}/release`, { to }, { signal })) as ReleaseResult
  }

  /** Waits up to `timeoutSeconds` for the slot's in-flight requests to finish; never throws on timeout. */
  async waitDrained(service: string, slot: SlotName, timeoutSeconds: number, signal?: AbortSignal): Promise<DrainResult> {
    const body = { timeoutSeconds }
    return (await this.call('POST', `${servicePath(service)}/slots/${slot}/wait-drained`, body, { timeoutSeconds: timeoutSeconds + this.timeoutSeconds, signal })) as DrainResult
  }

  async reportEvent(event: UpgradeEvent): Promise<void> {
    await this.call('POST', '/v1/events', event)
  }

  async listSchedules(): Promise<ScheduleView[]> {
    return ((await this.call('GET', '/v1/schedules')) as { schedules: ScheduleView[] }).schedules
  }

  async addSchedule(spec: ScheduleSpec): Promise<ScheduleView> {
    return (await this.call('POST', '/v1/schedules', spec)) as ScheduleView
  }

  async removeSchedule(id: string): Promise<void> {
    await this.call('DELETE', `/v1/schedules/${encodeURIComponent(id)}`)
  }

  /** Starts or renews the agent's watch of a run (see run-leases.ts). */
  async renewRun(lease: RunLease): Promise<WatchedRun> {
    const { runId, ...body } = lease
    return (await this.call('PUT', `/v1/runs/${encodeURIComponent(runId)}`, body)) as WatchedRun
  }

  /** The run ended: the agent stops watching it. */
  async finishRun(runId: string): Promise<void> {
    await this.call('DELETE', `/v1/runs/${encodeURIComponent(runId)}`)
  }

  async listRuns(): Promise<WatchedRun[]> {
    return ((await this.call('GET', '/v1/runs')) as { runs: WatchedRun[] }).runs
  }

  /** `signal` aborts the request (a cancelled phase must not wait for the agent). */
  private async call(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<unknown> {
    const deadline = Date.now() + this.reconnectSeconds * 1000
    for (;;) {
      try {
        return await this.callOnce(method, path, body, options)
      } catch (error) {
        if (!(error instanceof AgentUnreachableError) || Date.now() >= deadline || options.signal?.aborted) throw error
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_POLL_MS))
      }
    }
  }

  private callOnce(method: string, path: string, body: unknown, options: CallOptions): Promise<unknown> {
    const { timeoutSeconds = this.timeoutSeconds, signal } = options
    const text = body === undefined ? undefined : JSON.stringify(body)
    const what = `${method} ${path}`
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }
      const where = this.tcp === undefined ? { socketPath: this.socketPath } : { host: this.tcp.host, port: this.tcp.port }
      if (this.tcp !== undefined) headers.authorization = `Bearer ${this.tcp.token}`
      const requestOptions = { ...where, method, path, headers, agent: false as const, ...(signal ? { signal } : {}) }
      const onResponse = (response: http.IncomingMessage): void => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('error', (error) => reject(new AgentUnreachableError(this.socketPath, error)))
        response.on('end', () => {
          try {
            resolve(parseAnswer(what, response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')))
          } catch (error) {
            reject(error)
          }
        })
      }
      const ca = this.tcp?.ca
      const request = ca === undefined ? http.request(requestOptions, onResponse) : https.request({ ...requestOptions, ca }, onResponse)
      request.setTimeout(timeoutSeconds * 1000, () => request.destroy(new TimeoutError(`agent request ${what}`, timeoutSeconds)))
      request.on('error', (error) => reject(error instanceof TimeoutError || signal?.aborted ? error : new AgentUnreachableError(this.socketPath, error)))
      request.end(text)
    })
  }
}

const RECONNECT_POLL_MS = 200

interface CallOptions {
  timeoutSeconds?: number
  signal?: AbortSignal | undefined
}

function servicePath(name: string): string {
  return `/v1/services/${encodeURIComponent(name)}`
}

function parseAnswer(what: string, status: number, text: string): unknown {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new AgentRequestError(what, status, 'BAD_RESPONSE', `the agent answered something that is not JSON: ${text.slice(0, 200)}`)
  }
  if (status >= 200 && status < 300) return json
  const error = (json as { error?: { code?: unknown; message?: unknown } }).error
  const code = typeof error?.code === 'string' ? error.code : 'UNKNOWN'
  const message = typeof error?.message === 'string' ? error.message : text.slice(0, 200)
  throw new AgentRequestError(what, status, code, message)
}
