/**
 * One slot of a service: its state, its upstream connections, its health and its in-flight
 * count (requests and upgraded connections). State changes go through `transition`
 * (slot-state.ts); this class only applies what a state means for the slot's resources.
 */
import type { SlotMetrics } from '../../metrics/proxy-metrics.js'
import { DrainTracker } from './drain-tracker.js'
import { SlotHealth } from './health.js'
import type { Logger } from '../log.js'
import { transition } from './slot-state.js'
import type { Tunnel, TunnelOwner } from '../upstream/tunnel.js'
import { DEFAULT_CLIENT_LIMITS, type ClientLimits, type HealthCheck, type SlotName, type SlotRoute, type SlotState, type SlotStatus } from '../../protocol/routes.js'
import { UpstreamPool, type UpstreamOptions } from '../upstream/upstream-pool.js'

export class Slot implements TunnelOwner {
  private current: SlotState
  readonly drain: DrainTracker
  readonly pool: UpstreamPool
  readonly health: SlotHealth
  private readonly tunnels = new Set<Tunnel>()
  private drainCut: NodeJS.Timeout | undefined
  private lastDrainSeconds: number | undefined
  /** Per client address, its requests using or waiting for this slot's upstream connections. */
  private readonly perClient = new Map<string, number>()
  private maxPerClient = DEFAULT_CLIENT_LIMITS.maxRequestsPerClient

  constructor(
    readonly service: string,
    readonly name: SlotName,
    route: SlotRoute,
    private readonly metrics: SlotMetrics,
    private readonly log: Logger,
    upstreamOptions: UpstreamOptions,
    /** The service re-reads which slots may get traffic. */
    healthChanged: () => void,
    health: HealthCheck | undefined,
    private drainTimeoutMs: number,
  ) {
    this.current = route.state
    this.drain = new DrainTracker((seconds) => {
      this.lastDrainSeconds = seconds
      metrics.drained(seconds)
    })
    this.pool = new UpstreamPool(route.host, route.port, upstreamOptions, {
      connected: () => this.health.connected(),
      connectFailed: (error) => this.health.connectFailed(error.code ?? 'ERROR'),
    })
    this.health = new SlotHealth(this.pool, (healthy, why) => {
      metrics.healthChanged(healthy)
      this.log({ level: healthy ? 'info' : 'warn', msg: healthy ? 'slot healthy' : 'slot unhealthy', service, slot: name, target: this.pool.target, why })
      healthChanged()
    })
    this.health.configure(health)
  }

  get state(): SlotState {
    return this.current
  }

  /** Active and not judged unhealthy. */
  get serving(): boolean {
    return this.current === 'active' && this.health.healthy
  }

  /** Validates and applies one state change; the caller has already checked the whole batch. */
  enter(to: SlotState): void {
    const from = this.current
    if (from === to) return
    this.current = transition(this.service, this.name, from, to)
    if (from === 'draining') this.stopDraining()
    if (to === 'draining') this.startDraining()
    // Disabled means the container is about to be stopped or replaced: its connections are
    // worthless, and the next requests must reach the new process.
    if (to === 'disabled') {
      this.pool.renew()
      this.closeTunnels()
      this.health.reset()
    }
    this.log({ level: 'info', msg: 'slot state changed', service: this.service, slot: this.name, from, to })
  }

  configure(health: HealthCheck | undefined, drainTimeoutMs: number): void {
    this.health.configure(health)
    this.drainTimeoutMs = drainTimeoutMs
  }

  /** The limits of the service's route: the pool's wait deadline and the per-client cap. */
  limit(limits: ClientLimits): void {
    this.pool.setWaitLimit(limits.upstreamWaitSeconds * 1000)
    this.maxPerClient = limits.maxRequestsPerClient
  }

  /**
   * Counts a request from `address` that is about to take or wait for an upstream
   * connection; false (and not counted) when that address already has its share, so one
   * client cannot take every connection of the slot and leave the others waiting.
   */
  admit(address: string): boolean {
    const count = this.perClient.get(address) ?? 0
    if (count >= this.maxPerClient) return false
    this.perClient.set(address, count + 1)
    return true
  }

  /** The request admit() counted is done with its upstream connection. */
  dismiss(address: string): void {
    const count = this.perClient.get(address) ?? 0
    if (count <= 1) this.perClient.delete(address)
    else this.perClient.set(address, count - 1)
  }

  retarget(host: string, port: number): void {
    if (this.pool.retarget(host, port)) this.health.reset()
  }

  begin(): void {
    this.drain.begin()
  }

  end(code: number, seconds: number): void {
    this.drain.end()
    this.metrics.answered(code, seconds)
  }

  /** The request left this slot without an answer from it (retried elsewhere). */
  abandon(): void {
    this.drain.end()
  }

  failed(code: string, method: string): void {
    this.log({ level: 'warn', msg: 'upstream request failed', service: this.service, slot: this.name, target: this.pool.target, code, method })
  }

  retried(code: string, connected: boolean, method: string): void {
    this.metrics.retried()
    this.log({ level: 'warn', msg: 'upstream failed before answering; retrying on the other slot', service: this.service, slot: this.name, target: this.pool.target, code, connected, method })
  }

  tunnelOpened(tunnel: Tunnel): void {
    this.tunnels.add(tunnel)
    this.drain.begin()
  }

  tunnelClosed(tunnel: Tunnel): void {
    if (this.tunnels.delete(tunnel)) this.drain.end()
  }

  route(): SlotRoute {
    return { host: this.pool.host, port: this.pool.port, state: this.current }
  }

  status(): SlotStatus {
    const status: SlotStatus = { ...this.route(), inFlight: this.drain.inFlight, tunnels: this.tunnels.size, healthy: this.health.healthy }
    if (this.lastDrainSeconds !== undefined) status.lastDrainSeconds = this.lastDrainSeconds
    return status
  }

  close(): void {
    this.stopDraining()
    this.closeTunnels()
    this.drain.cancelWaits()
    this.pool.close()
    this.health.close()
  }

  /** Requests finish on their own; upgraded connections get until the drain timeout. */
  private startDraining(): void {
    this.drain.startDraining()
    this.drainCut = setTimeout(() => {
      this.drainCut = undefined
      if (this.tunnels.size === 0) return
      this.log({ level: 'warn', msg: 'drain timeout: closing upgraded connections', service: this.service, slot: this.name, tunnels: this.tunnels.size })
      this.closeTunnels()
    }, this.drainTimeoutMs)
    this.drainCut.unref()
  }

  private stopDraining(): void {
    clearTimeout(this.drainCut)
    this.drainCut = undefined
    this.drain.stopDraining()
  }

  private closeTunnels(): void {
    for (const tunnel of [...this.tunnels]) tunnel.close()
  }
}
