/**
 * One slot of a service: its state, its upstream connections and its in-flight count.
 * State changes go through `transition` (slot-state.ts); this class only applies what a
 * state means for the slot's resources.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { SlotMetrics } from '../metrics/proxy-metrics.js'
import { DrainTracker } from './drain-tracker.js'
import type { Logger } from './log.js'
import { answer, PLAIN } from './responses.js'
import { transition } from './slot-state.js'
import type { SlotName, SlotRoute, SlotState, SlotStatus } from './types.js'
import { UpstreamPool, type UpstreamOptions } from './upstream-pool.js'

export class Slot {
  private current: SlotState
  readonly drain: DrainTracker
  readonly upstream: UpstreamPool
  /** Bound once per slot so forwarding a request allocates no error handler. */
  readonly onUpstreamError: (error: Error, req: IncomingMessage, res: ServerResponse | Socket) => void

  constructor(
    readonly service: string,
    readonly name: SlotName,
    route: SlotRoute,
    private readonly metrics: SlotMetrics,
    private readonly log: Logger,
    upstreamOptions: UpstreamOptions,
  ) {
    this.current = route.state
    this.drain = new DrainTracker((seconds) => metrics.drained(seconds))
    this.upstream = new UpstreamPool(route.host, route.port, upstreamOptions)
    this.onUpstreamError = (error, req, res) => this.upstreamFailed(error, req, res)
  }

  get state(): SlotState {
    return this.current
  }

  /** Validates and applies one state change; the caller has already checked the whole batch. */
  enter(to: SlotState): void {
    const from = this.current
    if (from === to) return
    this.current = transition(this.service, this.name, from, to)
    if (from === 'draining') this.drain.stopDraining()
    if (to === 'draining') this.drain.startDraining()
    // Disabled means the container is about to be stopped or replaced: its sockets are
    // worthless, and the next requests must reach the new process.
    if (to === 'disabled') this.upstream.renew()
    this.log({ level: 'info', msg: 'slot state changed', service: this.service, slot: this.name, from, to })
  }

  retarget(host: string, port: number): void {
    this.upstream.retarget(host, port)
  }

  begin(): void {
    this.drain.begin()
  }

  end(code: number, seconds: number): void {
    this.drain.end()
    this.metrics.answered(code, seconds)
  }

  route(): SlotRoute {
    return { host: this.upstream.host, port: this.upstream.port, state: this.current }
  }

  status(): SlotStatus {
    return { ...this.route(), inFlight: this.drain.inFlight }
  }

  close(): void {
    this.drain.cancelWaits()
    this.upstream.close()
  }

  private upstreamFailed(error: Error, req: IncomingMessage, res: ServerResponse | Socket): void {
    const code = (error as NodeJS.ErrnoException).code ?? 'ERROR'
    this.log({ level: 'warn', msg: 'upstream request failed', service: this.service, slot: this.name, target: this.upstream.target, code, method: req.method })
    if ('writeHead' in res) answer(res, 502, `bad gateway: ${this.service} slot ${this.name} (${this.upstream.target}) failed: ${code}`, PLAIN)
    else res.destroy()
  }
}
