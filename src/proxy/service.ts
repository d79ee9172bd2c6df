/**
 * One proxied service: its listener, its two slots and its request buffer. It decides, per
 * request, whether to hold it (a slot is buffering), forward it (round robin over active
 * slots) or refuse it (no active slot). State changes arrive as whole batches that are
 * checked before any of them is applied, so a refused flip changes nothing.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { ProxyMetrics, ServiceMetrics, ServiceSnapshot } from '../metrics/proxy-metrics.js'
import { ListenError } from './errors.js'
import type { Forwarder } from './forwarder.js'
import { bind, unbind } from './listener.js'
import type { Logger } from './log.js'
import { RequestBuffer } from './request-buffer.js'
import { answer, RETRY } from './responses.js'
import { Slot } from './slot.js'
import { transition } from './slot-state.js'
import { MAX_BUFFER_WAIT_SECONDS } from './route-schema.js'
import { otherSlot, SLOT_NAMES, type BufferLimits, type DrainResult, type ServiceRoute, type ServiceStatus, type SlotName, type SlotState } from './types.js'
import type { UpstreamOptions } from './upstream-pool.js'

export interface ServiceDeps {
  forwarder: Forwarder
  metrics: ProxyMetrics
  log: Logger
  upstream: UpstreamOptions
  /** Idle keep-alive timeout towards clients; above common client/LB pools (60 s). */
  clientKeepAliveSeconds: number
  /** How long a closing listener lets in-flight requests finish. */
  closeGraceMs: number
}

export type StateChanges = Partial<Record<SlotName, SlotState>>

export class Service {
  readonly name: string
  private listen: { host: string; port: number }
  private limits: BufferLimits
  private readonly slots: Record<SlotName, Slot>
  private readonly buffer: RequestBuffer
  private readonly metrics: ServiceMetrics
  private active: Slot[] = []
  private holding = false
  private turn = 0
  private server: http.Server | undefined

  constructor(
    route: ServiceRoute,
    private readonly deps: ServiceDeps,
  ) {
    this.name = route.name
    this.listen = { ...route.listen }
    this.limits = { ...route.buffer }
    const slotMetrics = (slot: SlotName) => deps.metrics.forSlot(route.name, slot)
    this.slots = {
      blue: new Slot(route.name, 'blue', route.slots.blue, slotMetrics('blue'), deps.log, deps.upstream),
      green: new Slot(route.name, 'green', route.slots.green, slotMetrics('green'), deps.log, deps.upstream),
    }
    this.metrics = deps.metrics.forService(route.name)
    this.buffer = new RequestBuffer(route.name, this.limits, this.metrics)
    this.refresh()
  }

  /** Binds the service's listen address; on success the previous listener (if any) is closed. */
  async start(host = this.listen.host, port = this.listen.port): Promise<void> {
    const server = http.createServer(this.handle)
    server.keepAliveTimeout = this.deps.clientKeepAliveSeconds * 1000
    // A held request is not fully received until released: let the buffer's own deadline,
    // not Node's request timeout, decide when it has waited too long.
    server.requestTimeout = (MAX_BUFFER_WAIT_SECONDS + 300) * 1000
    let bound: number
    try {
      bound = await bind(server, host, port)
    } catch (error) {
      throw new ListenError(`service "${this.name}"`, `${host}:${port}`, error)
    }
    server.on('error', (error) => this.deps.log({ level: 'error', msg: 'listener error', service: this.name, error: error.message }))
    const previous = this.server
    this.server = server
    this.listen = { host, port: bound }
    if (previous !== undefined) void unbind(previous, this.deps.closeGraceMs, this.quiet())
    this.deps.log({ level: 'info', msg: 'service listening', service: this.name, listen: `${host}:${bound}` })
  }

  private readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.holding) this.buffer.hold(req, res)
    else this.dispatch(req, res)
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const active = this.active
    if (active.length === 0) {
      this.metrics.answeredByProxy(503)
      answer(res, 503, `service unavailable: ${this.name} has no active slot (${this.describeSlots()})`, RETRY)
      return
    }
    const slot = active.length === 1 ? active[0]! : active[this.turn++ % active.length]!
    this.deps.forwarder.forward(slot, req, res)
  }

  /** Replaces the route: transitions are checked first, then the listener moves if asked to. */
  async update(route: ServiceRoute): Promise<void> {
    const changes: StateChanges = { blue: route.slots.blue.state, green: route.slots.green.state }
    this.check(changes)
    const { host, port } = route.listen
    // Port 0 means "any port": keep the one already bound on the same host.
    if (host !== this.listen.host || (port !== 0 && port !== this.listen.port)) await this.start(host, port)
    for (const name of SLOT_NAMES) this.slots[name].retarget(route.slots[name].host, route.slots[name].port)
    this.limits = { ...route.buffer }
    this.buffer.setLimits(this.limits)
    this.apply(changes)
    this.flushIfNotHolding()
  }

  setSlotState(slot: SlotName, state: SlotState): void {
    this.check({ [slot]: state })
    this.apply({ [slot]: state })
    this.flushIfNotHolding()
  }

  /** `to` starts holding new requests; the other slot, if it was serving, drains. */
  flip(to: SlotName): void {
    const changes: StateChanges = { [to]: 'buffering' }
    if (this.slots[otherSlot(to)].state === 'active') changes[otherSlot(to)] = 'draining'
    this.check(changes)
    this.apply(changes)
  }

  /**
   * `to` becomes active and receives every held request, in arrival order. The other slot
   * is disabled if it was buffering (the flip is over) or draining (it is about to be stopped).
   * Returns how many held requests were forwarded.
   */
  release(to: SlotName): number {
    const other = otherSlot(to)
    const changes: StateChanges = { [to]: 'active' }
    const otherState = this.slots[other].state
    if (otherState === 'buffering' || otherState === 'draining') changes[other] = 'disabled'
    this.check(changes)
    this.apply(changes)
    const target = this.slots[to]
    const held = this.buffer.takeAll()
    for (const { req, res } of held) this.deps.forwarder.forward(target, req, res)
    if (held.length > 0) this.deps.log({ level: 'info', msg: 'buffer released', service: this.name, slot: to, released: held.length })
    return held.length
  }

  waitDrained(slot: SlotName, timeoutMs: number): Promise<DrainResult> {
    return this.slots[slot].drain.wait(timeoutMs)
  }

  route(): ServiceRoute {
    return {
      name: this.name,
      listen: { ...this.listen },
      slots: { blue: this.slots.blue.route(), green: this.slots.green.route() },
      buffer: { ...this.limits },
    }
  }

  status(): ServiceStatus {
    return { ...this.route(), slots: { blue: this.slots.blue.status(), green: this.slots.green.status() }, buffered: this.buffer.size }
  }

  snapshot(): ServiceSnapshot {
    return {
      service: this.name,
      buffered: this.buffer.size,
      slots: SLOT_NAMES.map((slot) => ({ slot, state: this.slots[slot].state, inFlight: this.slots[slot].drain.inFlight })),
    }
  }

  /** Held requests are answered 503 at once; in-flight ones get the grace period. */
  async close(why: string): Promise<void> {
    this.buffer.rejectAll('shutdown', why)
    this.holding = false
    if (this.server !== undefined) await unbind(this.server, this.deps.closeGraceMs, this.quiet())
    for (const name of SLOT_NAMES) this.slots[name].close()
  }

  /** Throws on the first illegal change, before any slot has changed. */
  private check(changes: StateChanges): void {
    for (const name of SLOT_NAMES) {
      const to = changes[name]
      if (to !== undefined) transition(this.name, name, this.slots[name].state, to)
    }
  }

  private apply(changes: StateChanges): void {
    for (const name of SLOT_NAMES) {
      const to = changes[name]
      if (to !== undefined) this.slots[name].enter(to)
    }
    this.refresh()
  }

  private refresh(): void {
    this.active = SLOT_NAMES.map((name) => this.slots[name]).filter((slot) => slot.state === 'active')
    this.holding = SLOT_NAMES.some((name) => this.slots[name].state === 'buffering')
  }

  /** The buffering slot went away without a release: held requests take the normal route. */
  private flushIfNotHolding(): void {
    if (this.holding || this.buffer.size === 0) return
    for (const { req, res } of this.buffer.takeAll()) this.dispatch(req, res)
  }

  /** Resolves when no slot has a request in flight (or after the grace period). */
  private quiet(): Promise<unknown> {
    const ms = this.deps.closeGraceMs
    return Promise.all(SLOT_NAMES.map((name) => this.slots[name].drain.wait(ms)))
  }

  private describeSlots(): string {
    return SLOT_NAMES.map((name) => `${name} ${this.slots[name].state}`).join(', ')
  }
}
