/**
 * Holds a service's requests while a slot is `buffering` (the flip, while the old slot
 * drains and the contract DDL runs), then hands them back in arrival order.
 *
 * Every hold is bounded three ways, because a buffer without a bound is an outage when the
 * upgrade process that should release it has died: by count (maxRequests), by the bytes held
 * in memory (maxBytes: each held head, copied when it is held, and its body; a declared
 * Content-Length is checked on arrival, a chunked body as it arrives) and by time
 * (maxWaitSeconds). Over a bound, a request gets 503 with Retry-After
 * and a body naming the reason, and the reason is counted.
 *
 * One timer serves the whole buffer: it fires at the oldest request's deadline (arrival order
 * is deadline order), so holding 10,000 requests costs no timer each.
 */
import type { RejectReason, ServiceMetrics } from '../../metrics/proxy-metrics.js'
import type { Exchange } from '../upstream/exchange.js'
import { DEFAULT_BUFFER_MAX_BYTES, type BufferLimits } from '../../protocol/routes.js'

interface Limits {
  maxRequests: number
  maxBytes: number
  maxWaitMs: number
}

export class RequestBuffer {
  // A Set keeps insertion (arrival) order and removes a disconnected client in O(1).
  private readonly held = new Set<Exchange>()
  private bytes = 0
  private limits: Limits
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly service: string,
    limits: BufferLimits,
    private readonly metrics: ServiceMetrics,
  ) {
    this.limits = toLimits(limits)
  }

  get size(): number {
    return this.held.size
  }

  get heldBytes(): number {
    return this.bytes
  }

  /** New limits apply to requests that arrive from now on. */
  setLimits(limits: BufferLimits): void {
    this.limits = toLimits(limits)
  }

  hold(exchange: Exchange): void {
    const { maxRequests, maxBytes } = this.limits
    if (this.held.size >= maxRequests) {
      this.reject(exchange, 'full', `buffer full: ${this.service} already holds ${this.held.size} requests during an upgrade; retry shortly`)
      return
    }
    // The head is held too (a copy, below): a client sending large heads must count.
    const headBytes = exchange.head.lines.length
    const declared = Math.max(0, exchange.head.contentLength)
    if (this.bytes + headBytes + declared > maxBytes) {
      this.reject(exchange, 'bytes', `buffer full: ${this.service} cannot hold another ${headBytes + declared} bytes during an upgrade (limit ${maxBytes}); retry shortly`)
      return
    }
    exchange.state = 'held'
    // Its head is a view of the read it came in: a copy lets that read go while it waits.
    exchange.head.lines = Buffer.from(exchange.head.lines)
    exchange.bufferedBytes = headBytes
    this.bytes += headBytes
    this.held.add(exchange)
    if (this.timer === undefined) this.arm()
  }

  /** A held request's body grew; false (and the request answered 503) when over the byte limit. */
  grow(exchange: Exchange, bytes: number): boolean {
    exchange.bufferedBytes += bytes
    this.bytes += bytes
    if (this.bytes <= this.limits.maxBytes) return true
    this.give(exchange, 'bytes', `buffer full: ${this.service} holds more than ${this.limits.maxBytes} bytes during an upgrade; retry shortly`)
    return false
  }

  /** The client left: forget it, so it is never forwarded after it left. */
  forget(exchange: Exchange): void {
    if (!this.held.delete(exchange)) return
    this.bytes -= exchange.bufferedBytes
    exchange.bufferedBytes = 0
    if (this.held.size === 0) this.disarm()
  }

  /** Removes every held request, oldest first, for the caller to forward. */
  takeAll(): Exchange[] {
    const released = [...this.held]
    this.held.clear()
    this.bytes = 0
    this.disarm()
    if (released.length === 0) return released
    const now = performance.now()
    for (const exchange of released) {
      exchange.bufferedBytes = 0
      this.metrics.waited((now - exchange.arrivedAt) / 1000)
    }
    this.metrics.releasedAfter((now - released[0]!.arrivedAt) / 1000)
    return released
  }

  /** Answers every held request 503 (agent shutdown, service deleted). */
  rejectAll(reason: RejectReason, why: string): void {
    for (const exchange of [...this.held]) this.give(exchange, reason, why)
  }

  private give(exchange: Exchange, reason: RejectReason, why: string): void {
    this.forget(exchange)
    this.metrics.waited((performance.now() - exchange.arrivedAt) / 1000)
    this.reject(exchange, reason, why)
  }

  private reject(exchange: Exchange, reason: RejectReason, why: string): void {
    this.metrics.rejected(reason)
    this.metrics.answeredByProxy(503)
    exchange.answer(503, `service unavailable: ${why}`, true, reason === 'shutdown')
  }

  /** One timer, set for the oldest held request's deadline. */
  private arm(): void {
    const oldest = this.held.values().next()
    if (oldest.done === true) return
    const due = oldest.value.arrivedAt + this.limits.maxWaitMs - performance.now()
    this.timer = setTimeout(() => this.expire(), Math.max(0, due))
  }

  private disarm(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private expire(): void {
    this.timer = undefined
    const deadline = performance.now() - this.limits.maxWaitMs
    const seconds = this.limits.maxWaitMs / 1000
    for (const exchange of this.held) {
      // Allow a millisecond of timer slack; later arrivals keep waiting.
      if (exchange.arrivedAt > deadline + 1) break
      this.give(exchange, 'timeout', `buffer wait exceeded: ${this.service} held this request ${seconds}s while an upgrade switched versions; retry`)
    }
    if (this.held.size > 0 && this.timer === undefined) this.arm()
  }
}

function toLimits(limits: BufferLimits): Limits {
  return { maxRequests: limits.maxRequests, maxBytes: limits.maxBytes ?? DEFAULT_BUFFER_MAX_BYTES, maxWaitMs: limits.maxWaitSeconds * 1000 }
}
