/**
 * The keep-alive connections from the proxy to one slot's container.
 *
 * Two ways a reused upstream socket fails with ECONNRESET, and what we do about each:
 * - the upstream closes an idle socket just as we reuse it: our idle timeout (a few
 *   seconds) is far below the upstream's (65 s in the demo), so we always close first;
 * - the container behind the port is stopped and replaced: when the slot is disabled we
 *   retire the whole pool, and the slot's next requests open sockets to the new process.
 */
import http from 'node:http'
import type Server from 'http-proxy'

export interface UpstreamOptions {
  /** Idle sockets are closed by us after this long; keep it below every upstream's keep-alive timeout. */
  idleTimeoutMs: number
}

export const DEFAULT_UPSTREAM_IDLE_MS = 4000

// http-proxy copies the client's Connection header to the upstream request; a client's
// `Connection: close` would then cost us the upstream socket. We always ask to keep it.
const UPSTREAM_HEADERS = Object.freeze({ connection: 'keep-alive' })

export class UpstreamPool {
  private agent: http.Agent
  /** What `proxy.web` needs for this slot; rebuilt only when the target or agent changes. */
  proxyOptions: Server.ServerOptions

  constructor(
    private addressHost: string,
    private addressPort: number,
    private readonly options: UpstreamOptions,
  ) {
    this.agent = this.newAgent()
    this.proxyOptions = this.buildProxyOptions()
  }

  get host(): string {
    return this.addressHost
  }

  get port(): number {
    return this.addressPort
  }

  /** host:port, for logs and error messages. */
  get target(): string {
    return `${this.addressHost}:${this.addressPort}`
  }

  /** Points at another address; connections to the old one are retired. */
  retarget(host: string, port: number): void {
    if (host === this.addressHost && port === this.addressPort) return
    this.addressHost = host
    this.addressPort = port
    this.renew()
  }

  /**
   * Starts a fresh pool. Requests in flight on the old one finish on their sockets, which
   * are then closed instead of kept; its idle sockets are closed now.
   */
  renew(): void {
    retire(this.agent)
    this.agent = this.newAgent()
    this.proxyOptions = this.buildProxyOptions()
  }

  close(): void {
    this.agent.destroy()
  }

  private newAgent(): http.Agent {
    return new http.Agent({
      keepAlive: true,
      timeout: this.options.idleTimeoutMs,
      scheduling: 'lifo',
      maxFreeSockets: 256,
    })
  }

  private buildProxyOptions(): Server.ServerOptions {
    return {
      target: { protocol: 'http:', host: this.addressHost, hostname: this.addressHost, port: String(this.addressPort) },
      agent: this.agent,
      headers: UPSTREAM_HEADERS,
    }
  }
}

function retire(agent: http.Agent): void {
  agent.keepSocketAlive = () => false
  for (const sockets of Object.values(agent.freeSockets)) {
    for (const socket of sockets ?? []) socket.destroy()
  }
}
