/**
 * Holds a service's requests while a slot is `buffering` (the flip, while the old slot
 * drains and the contract DDL runs), then hands them back in arrival order.
 *
 * A held request's body is never read here: it stays in the socket and stream buffers and
 * flows to the upstream byte for byte when released. Because nobody reads it, Node stops
 * reading the socket once the request's stream buffer is full (its highWaterMark), so the
 * bytes held per request are bounded by Node's buffers and the kernel's, and the client waits.
 * Every hold is bounded by count (maxRequests) and by time (maxWaitSeconds), because a
 * buffer without a bound is an outage when the upgrade process that should release it has died.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RejectReason, ServiceMetrics } from '../metrics/proxy-metrics.js'
import { answer, RETRY, RETRY_AND_CLOSE } from './responses.js'
import type { BufferLimits } from './types.js'

interface Held {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly arrivedAt: number
  timer: NodeJS.Timeout | undefined
  onClose: (() => void) | undefined
}

export interface Released {
  readonly req: IncomingMessage
  readonly res: ServerResponse
}

export class RequestBuffer {
  // A Set keeps insertion (arrival) order and removes a disconnected client in O(1).
  private readonly held = new Set<Held>()

  constructor(
    private readonly service: string,
    private limits: BufferLimits,
    private readonly metrics: ServiceMetrics,
  ) {}

  get size(): number {
    return this.held.size
  }

  /** New limits apply to requests that arrive from now on. */
  setLimits(limits: BufferLimits): void {
    this.limits = limits
  }

  hold(req: IncomingMessage, res: ServerResponse): void {
    if (this.held.size >= this.limits.maxRequests) {
      this.reject(res, 'full', `buffer full: ${this.service} already holds ${this.held.size} requests during an upgrade; retry shortly`)
      return
    }
    const entry: Held = { req, res, arrivedAt: performance.now(), timer: undefined, onClose: undefined }
    entry.timer = setTimeout(() => this.expire(entry), this.limits.maxWaitSeconds * 1000)
    // The client gave up: forget it, so it is never forwarded after it left.
    entry.onClose = () => this.forget(entry)
    res.on('close', entry.onClose)
    this.held.add(entry)
  }

  /** Removes every held request, oldest first, for the caller to forward. */
  takeAll(): Released[] {
    const released: Released[] = []
    const now = performance.now()
    let longestWait = 0
    for (const entry of this.held) {
      this.forget(entry)
      if (entry.req.socket.destroyed) continue
      const waited = (now - entry.arrivedAt) / 1000
      this.metrics.waited(waited)
      longestWait = Math.max(longestWait, waited)
      released.push(entry)
    }
    if (released.length > 0) this.metrics.releasedAfter(longestWait)
    return released
  }

  /** Answers every held request 503 (agent shutdown, service deleted). */
  rejectAll(reason: RejectReason, why: string): void {
    for (const entry of this.held) this.give(entry, reason, why)
  }

  private expire(entry: Held): void {
    entry.timer = undefined
    this.give(entry, 'timeout', `buffer wait exceeded: ${this.service} held this request ${this.limits.maxWaitSeconds}s while an upgrade switched versions; retry`)
  }

  private give(entry: Held, reason: RejectReason, why: string): void {
    this.forget(entry)
    this.metrics.waited((performance.now() - entry.arrivedAt) / 1000)
    this.reject(entry.res, reason, why)
  }

  private reject(res: ServerResponse, reason: RejectReason, why: string): void {
    this.metrics.rejected(reason)
    this.metrics.answeredByProxy(503)
    answer(res, 503, `service unavailable: ${why}`, reason === 'shutdown' ? RETRY_AND_CLOSE : RETRY)
  }

  private forget(entry: Held): void {
    if (!this.held.delete(entry)) return
    if (entry.timer !== undefined) clearTimeout(entry.timer)
    if (entry.onClose !== undefined) entry.res.off('close', entry.onClose)
  }
}
