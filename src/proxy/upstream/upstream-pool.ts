/**
 * The keep-alive connections from the proxy to one slot's container, and the queue of
 * requests waiting for one. Connections are reused last-in first-out (the warm ones), capped
 * per slot, and handed to waiting requests first-in first-out, so a released buffer reaches
 * the upstream in arrival order.
 *
 * Two ways a reused upstream connection fails, and what we do about each:
 * - the upstream closes an idle connection just as we reuse it: our idle timeout (a few
 *   seconds) is far below the upstream's (65 s in the demo), so we always close first;
 * - the container behind the port is stopped and replaced: when the slot is disabled we
 *   renew the pool, and the slot's next requests open connections to the new process.
 *
 * A wait in the queue has a deadline (waitMs): a slot whose connections are all taken, by a
 * slow upstream or by clients that hold requests open, answers the requests behind them 503
 * with Retry-After instead of letting them wait forever. The queue is first-in first-out, so
 * its head is always the oldest wait, and one timer set for that wait's deadline serves all.
 */
import { UpstreamConnection, type ConnectionOwner } from './upstream-connection.js'

export interface UpstreamOptions {
  /** Idle connections are closed by us after this long; keep it below every upstream's keep-alive timeout. */
  idleTimeoutMs: number
  /** Connections per slot at most; further requests wait in order. */
  maxConnections: number
}

export const DEFAULT_UPSTREAM_IDLE_MS = 4000
export const DEFAULT_UPSTREAM_MAX_CONNECTIONS = 256

export const DEFAULT_UPSTREAM_WAIT_MS = 10_000

/** A request that waits for a connection. */
export interface PoolWaiter {
  attach(connection: UpstreamConnection): void
  /** False once the request is gone (client left), so it is skipped. */
  readonly waiting: boolean
  /** performance.now() when it joined the queue; set by the pool. */
  queuedAt: number
  /** It waited the whole deadline and leaves the queue unserved. */
  waitExpired(seconds: number): void
}

export interface PoolEvents {
  connected(): void
  connectFailed(error: NodeJS.ErrnoException): void
}

export class UpstreamPool implements ConnectionOwner {
  private idle: UpstreamConnection[] = []
  private open = 0
  private warmTarget = 0
  private generation = 0
  private readonly queue: PoolWaiter[] = []
  private queueHead = 0
  private readonly sweeper: NodeJS.Timeout
  private waitMs = DEFAULT_UPSTREAM_WAIT_MS
  private waitTimer: NodeJS.Timeout | undefined

  constructor(
    private addressHost: string,
    private addressPort: number,
    private readonly options: UpstreamOptions,
    private readonly events: PoolEvents,
  ) {
    this.sweeper = setInterval(() => this.closeIdle(), Math.max(10, Math.min(1000, options.idleTimeoutMs / 2)))
    this.sweeper.unref()
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

  /** How long a request may wait for a connection; applies to waits that start from now on. */
  setWaitLimit(ms: number): void {
    this.waitMs = ms
  }

  /** Attaches a connection to `waiter` now, or as soon as one is free (within the wait limit). */
  acquire(waiter: PoolWaiter): void {
    const connection = this.take()
    if (connection !== undefined) {
      waiter.attach(connection)
      return
    }
    waiter.queuedAt = performance.now()
    this.queue.push(waiter)
    if (this.waitTimer === undefined) this.armWait()
  }

  /**
   * Keeps `count` connections open (at most the cap), so requests released from the buffer
   * find them connected instead of each paying a handshake. Like any idle connection they
   * close after the idle timeout, and are then replaced at once while the target holds;
   * warm(0) ends that.
   */
  warm(count: number): void {
    this.warmTarget = Math.min(count, this.options.maxConnections)
    while (this.open < this.warmTarget) this.park(this.connect())
  }

  /** A connection of its own, outside the pool's reuse (protocol upgrades keep theirs). */
  dedicated(): UpstreamConnection {
    return this.connect()
  }

  /** The exchange is done with `connection`; it is reused only when the response left it clean. */
  release(connection: UpstreamConnection, reusable: boolean): void {
    connection.user = undefined
    if (!reusable || connection.generation !== this.generation || !connection.usable) {
      connection.destroy()
      return
    }
    const waiter = this.nextWaiter()
    if (waiter !== undefined) {
      waiter.attach(connection)
      return
    }
    this.park(connection)
  }

  /** Points at another address; connections to the old one are retired. False when the address is the same. */
  retarget(host: string, port: number): boolean {
    if (host === this.addressHost && port === this.addressPort) return false
    this.addressHost = host
    this.addressPort = port
    this.renew()
    return true
  }

  /** Connections in use finish their exchange and are then closed; idle ones close now. */
  renew(): void {
    this.generation++
    this.warmTarget = 0
    const idle = this.idle
    this.idle = []
    for (const connection of idle) connection.destroy()
  }

  close(): void {
    clearInterval(this.sweeper)
    clearTimeout(this.waitTimer)
    this.waitTimer = undefined
    this.renew()
  }

  closed(connection: UpstreamConnection): void {
    this.open--
    const at = this.idle.indexOf(connection)
    if (at >= 0) this.idle.splice(at, 1)
    // A slot freed up: a waiting request may open a new connection.
    const waiter = this.open < this.options.maxConnections ? this.nextWaiter() : undefined
    if (waiter !== undefined) waiter.attach(this.connect())
  }

  connected(): void {
    this.events.connected()
  }

  connectFailed(error: NodeJS.ErrnoException): void {
    this.events.connectFailed(error)
  }

  private take(): UpstreamConnection | undefined {
    while (this.idle.length > 0) {
      const connection = this.idle.pop()!
      if (connection.usable) return connection
      connection.destroy()
    }
    return this.open < this.options.maxConnections ? this.connect() : undefined
  }

  private connect(): UpstreamConnection {
    this.open++
    return new UpstreamConnection(this.addressHost, this.addressPort, this.generation, this)
  }

  private park(connection: UpstreamConnection): void {
    connection.idleSince = performance.now()
    this.idle.push(connection)
  }

  private nextWaiter(): PoolWaiter | undefined {
    while (this.queueHead < this.queue.length) {
      const waiter = this.queue[this.queueHead]!
      this.queue[this.queueHead++] = undefined as unknown as PoolWaiter
      if (this.queueHead === this.queue.length) {
        this.queue.length = 0
        this.queueHead = 0
      }
      if (waiter.waiting) return waiter
    }
    return undefined
  }

  /** One timer, for the deadline of the oldest request still waiting. */
  private armWait(): void {
    while (this.queueHead < this.queue.length && !this.queue[this.queueHead]!.waiting) this.queueHead++
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0
      this.queueHead = 0
      return
    }
    const due = this.queue[this.queueHead]!.queuedAt + this.waitMs - performance.now()
    this.waitTimer = setTimeout(() => this.expireWaits(), Math.max(0, due))
    this.waitTimer.unref()
  }

  private expireWaits(): void {
    this.waitTimer = undefined
    // A millisecond of timer slack; later arrivals keep waiting.
    const cutoff = performance.now() - this.waitMs + 1
    const seconds = this.waitMs / 1000
    while (this.queueHead < this.queue.length) {
      const waiter = this.queue[this.queueHead]!
      if (waiter.waiting && waiter.queuedAt > cutoff) break
      this.queue[this.queueHead++] = undefined as unknown as PoolWaiter
      if (waiter.waiting) waiter.waitExpired(seconds)
    }
    this.armWait()
  }

  /** The oldest idle connections sit at the bottom of the LIFO stack. */
  private closeIdle(): void {
    const cutoff = performance.now() - this.options.idleTimeoutMs
    let expired = 0
    while (expired < this.idle.length && this.idle[expired]!.idleSince <= cutoff) expired++
    if (expired === 0) return
    for (const connection of this.idle.splice(0, expired)) connection.destroy()
    // `open` drops only as each closes; the warm target counts the replaced ones as gone.
    const replacements = Math.min(expired, this.warmTarget - (this.open - expired))
    for (let i = 0; i < replacements; i++) this.park(this.connect())
  }
}
