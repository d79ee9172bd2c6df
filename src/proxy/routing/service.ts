/**
 * One proxied service: its listener, its two slots and its request buffer. It decides, per
 * request, whether to hold it (a slot is buffering), forward it (round robin over active,
 * healthy slots) or refuse it (no active slot). State changes arrive as whole batches that
 * are checked before any of them is applied, so a refused flip changes nothing.
 */
import net from 'node:net'
import type { ProxyMetrics, ServiceMetrics, ServiceSnapshot } from '../../metrics/proxy-metrics.js'
import { ClientConnection, type ConnectionHost } from '../upstream/client-connection.js'
import { ForwarderTrust } from '../http/forwarder-trust.js'
import { ListenError } from '../errors.js'
import type { Exchange } from '../upstream/exchange.js'
import { bind, unbind } from '../upstream/listener.js'
import type { Logger } from '../log.js'
import { RequestBuffer } from './request-buffer.js'
import { Slot } from './slot.js'
import { transition } from './slot-state.js'
import {
  DEFAULT_DRAIN_TIMEOUT_SECONDS,
  otherSlot,
  SLOT_NAMES,
  type ClientLimits,
  type DrainResult,
  type ServiceRoute,
  type ServiceStatus,
  type SlotName,
  type SlotState,
} from '../../protocol/routes.js'
import type { UpstreamOptions } from '../upstream/upstream-pool.js'

export interface ServiceDeps {
  metrics: ProxyMetrics
  log: Logger
  upstream: UpstreamOptions
  /** Idle keep-alive timeout towards clients; above common client/LB pools (60 s). */
  clientKeepAliveSeconds: number
  /** What a client may hold when the route does not say (its `limits` fields override these one by one). */
  limits: ClientLimits
  /** How long a closing listener lets in-flight requests finish. */
  closeGraceMs: number
}

export type StateChanges = Partial<Record<SlotName, SlotState>>

// The sweep runs this often at most, and at least four times per shortest client timeout.
const SWEEP_MS = 1000
const MIN_SWEEP_MS = 10

export class Service implements ConnectionHost {
  readonly name: string
  private route_: ServiceRoute
  private readonly slots: Record<SlotName, Slot>
  private readonly buffer: RequestBuffer
  private readonly metrics: ServiceMetrics
  private readonly connections = new Set<ClientConnection>()
  private active: Slot[] = []
  private holding = false
  private turn = 0
  private server: net.Server | undefined
  private sweeper: NodeJS.Timeout
  private sweepMs = 0
  private limits: ClientLimits
  private trust: ForwarderTrust
  closing = false

  constructor(
    route: ServiceRoute,
    private readonly deps: ServiceDeps,
  ) {
    this.name = route.name
    this.route_ = route
    const slot = (name: SlotName) =>
      new Slot(route.name, name, route.slots[name], deps.metrics.forSlot(route.name, name), deps.log, deps.upstream, () => this.refresh(), route.health, drainMs(route))
    this.slots = { blue: slot('blue'), green: slot('green') }
    this.metrics = deps.metrics.forService(route.name)
    this.buffer = new RequestBuffer(route.name, route.buffer, this.metrics)
    this.trust = new ForwarderTrust(route.trustedForwarders ?? [])
    this.limits = { ...deps.limits, ...route.limits }
    this.sweeper = this.startSweeping()
    for (const name of SLOT_NAMES) this.slots[name].limit(this.limits)
    this.refresh()
  }

  /** Binds the service's listen address; on success the previous listener (if any) is closed. */
  async start(host = this.route_.listen.host, port = this.route_.listen.port): Promise<void> {
    const server = net.createServer({ noDelay: true }, (socket) => this.connections.add(new ClientConnection(socket, this)))
    let bound: number
    try {
      bound = await bind(server, host, port)
    } catch (error) {
      throw new ListenError(`service "${this.name}"`, `${host}:${port}`, error)
    }
    server.on('error', (error) => this.deps.log({ level: 'error', msg: 'listener error', service: this.name, error: error.message }))
    const previous = this.server
    this.server = server
    this.route_ = { ...this.route_, listen: { host, port: bound } }
    // Connections accepted by the old listener stay with the service and finish normally.
    if (previous !== undefined) previous.close()
    this.deps.log({ level: 'info', msg: 'service listening', service: this.name, listen: `${host}:${bound}` })
  }

  // ---- ConnectionHost: called per connection or request ----

  trusts(address: string): boolean {
    return this.trust.trusts(address)
  }

  accept(exchange: Exchange): void {
    if (!this.holding) {
      this.dispatch(exchange)
      return
    }
    this.buffer.hold(exchange)
    this.warmBufferingSlot()
  }

  alternative(failed: Slot): Slot | undefined {
    const active = this.active
    for (let i = 0; i < active.length; i++) if (active[i] !== failed) return active[i]
    return undefined
  }

  heldBytes(exchange: Exchange, bytes: number): boolean {
    return this.buffer.grow(exchange, bytes)
  }

  abandoned(exchange: Exchange): void {
    this.buffer.forget(exchange)
  }

  answeredByProxy(status: number): void {
    this.metrics.answeredByProxy(status)
  }

  connectionClosed(connection: ClientConnection): void {
    this.connections.delete(connection)
  }

  private dispatch(exchange: Exchange): void {
    const active = this.active
    if (active.length === 0) {
      this.metrics.answeredByProxy(503)
      exchange.answer(503, `service unavailable: ${this.name} has no active slot (${this.describeSlots()})`, true)
      return
    }
    exchange.forward(active.length === 1 ? active[0]! : active[this.turn++ % active.length]!)
  }

  // ---- state changes ----

  /** Replaces the route: transitions are checked first, then the listener moves if asked to. */
  async update(route: ServiceRoute): Promise<void> {
    const changes: StateChanges = { blue: route.slots.blue.state, green: route.slots.green.state }
    this.check(changes)
    const { host, port } = route.listen
    const listen = this.route_.listen
    // Port 0 means "any port": keep the one already bound on the same host.
    if (host !== listen.host || (port !== 0 && port !== listen.port)) await this.start(host, port)
    for (const name of SLOT_NAMES) {
      this.slots[name].retarget(route.slots[name].host, route.slots[name].port)
      this.slots[name].configure(route.health, drainMs(route))
    }
    this.route_ = { ...route, listen: this.route_.listen }
    this.buffer.setLimits(route.buffer)
    this.trust = new ForwarderTrust(route.trustedForwarders ?? [])
    this.limits = { ...this.deps.limits, ...route.limits }
    for (const name of SLOT_NAMES) this.slots[name].limit(this.limits)
    this.sweeper = this.startSweeping()
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
   * Returns how many held requests were forwarded, and how long the oldest of them waited.
   */
  release(to: SlotName): { released: number; longestHoldSeconds: number } {
    const other = otherSlot(to)
    const changes: StateChanges = { [to]: 'active' }
    const otherState = this.slots[other].state
    if (otherState === 'buffering' || otherState === 'draining') changes[other] = 'disabled'
    this.check(changes)
    this.apply(changes)
    const target = this.slots[to]
    const held = this.buffer.takeAll()
    // Oldest first: the first waited longest.
    const longestHoldSeconds = held.length === 0 ? 0 : (performance.now() - held[0]!.arrivedAt) / 1000
    for (const exchange of held) exchange.forward(target)
    if (held.length > 0) this.deps.log({ level: 'info', msg: 'buffer released', service: this.name, slot: to, released: held.length, longestHoldSeconds })
    return { released: held.length, longestHoldSeconds }
  }

  waitDrained(slot: SlotName, timeoutMs: number): Promise<DrainResult> {
    return this.slots[slot].drain.wait(timeoutMs)
  }

  route(): ServiceRoute {
    return { ...this.route_, slots: { blue: this.slots.blue.route(), green: this.slots.green.route() } }
  }

  status(): ServiceStatus {
    return {
      ...this.route(),
      slots: { blue: this.slots.blue.status(), green: this.slots.green.status() },
      buffered: this.buffer.size,
      bufferedBytes: this.buffer.heldBytes,
    }
  }

  snapshot(): ServiceSnapshot {
    return {
      service: this.name,
      buffered: this.buffer.size,
      slots: SLOT_NAMES.map((slot) => ({ slot, ...this.slots[slot].status() })),
    }
  }

  /** Held requests are answered 503 at once; in-flight ones get the grace period. */
  async close(why: string): Promise<void> {
    this.closing = true
    this.buffer.rejectAll('shutdown', why)
    this.holding = false
    clearInterval(this.sweeper)
    for (const connection of this.connections) connection.closeIfIdle()
    if (this.server !== undefined) await unbind(this.server, this.connections, this.deps.closeGraceMs, this.quiet())
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

  /** Which slots get new requests: active and healthy ones; all active ones if none is healthy. */
  private refresh(): void {
    const active = SLOT_NAMES.map((name) => this.slots[name]).filter((slot) => slot.state === 'active')
    const healthy = active.filter((slot) => slot.health.healthy)
    // With no healthy slot, trying is better than refusing: the answer is then a clear 502.
    this.active = healthy.length > 0 ? healthy : active
    this.holding = SLOT_NAMES.some((name) => this.slots[name].state === 'buffering')
    this.warmBufferingSlot()
  }

  /** The buffering slot went away without a release: held requests take the normal route. */
  private flushIfNotHolding(): void {
    if (this.holding || this.buffer.size === 0) return
    for (const exchange of this.buffer.takeAll()) this.dispatch(exchange)
  }

  /** Resolves when no slot has a request in flight (or after the grace period). */
  private quiet(): Promise<unknown> {
    const ms = this.deps.closeGraceMs
    return Promise.all(SLOT_NAMES.map((name) => this.slots[name].drain.wait(ms)))
  }

  /** (Re)starts the sweep at the interval the current limits need; returns its timer. */
  private startSweeping(): NodeJS.Timeout {
    const shortest = Math.min(this.limits.headTimeoutSeconds, this.limits.bodyTimeoutSeconds) * 1000
    const ms = Math.max(MIN_SWEEP_MS, Math.min(SWEEP_MS, Math.floor(shortest / 4)))
    if (this.sweeper !== undefined && ms === this.sweepMs) return this.sweeper
    clearInterval(this.sweeper)
    this.sweepMs = ms
    const timer = setInterval(() => this.sweep(), ms)
    timer.unref()
    return timer
  }

  private sweep(): void {
    const now = performance.now()
    const keepAliveMs = this.deps.clientKeepAliveSeconds * 1000
    const { headTimeoutSeconds, bodyTimeoutSeconds } = this.limits
    for (const connection of this.connections) connection.sweep(now, keepAliveMs, headTimeoutSeconds * 1000, bodyTimeoutSeconds * 1000)
    // Expired warm connections are replaced by the pool itself, and a health change
    // refreshes; this reopens warm connections that closed on an error while held.
    if (this.holding) this.warmBufferingSlot()
  }

  /**
   * The held requests will go to the buffering slot: keep one connection to it open per
   * held request (up to the pool's cap) while they wait. Not while it fails its health
   * checks, nor for a slot that does not buffer (warm(0) stops replacing expired ones).
   */
  private warmBufferingSlot(): void {
    const held = this.holding ? this.buffer.size : 0
    for (const name of SLOT_NAMES) {
      const slot = this.slots[name]
      slot.pool.warm(slot.state === 'buffering' && slot.health.healthy ? held : 0)
    }
  }

  private describeSlots(): string {
    return SLOT_NAMES.map((name) => `${name} ${this.slots[name].state}`).join(', ')
  }
}

function drainMs(route: ServiceRoute): number {
  return (route.drainTimeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS) * 1000
}
