/**
 * The agent's table of services: every change made through the admin API goes through
 * here, one at a time, and is saved to the route store before the caller hears "done".
 */
import type { ServiceSnapshot } from '../../metrics/proxy-metrics.js'
import { UnknownServiceError } from '../errors.js'
import type { RouteStore } from './route-store.js'
import { Service, type ServiceDeps } from './service.js'
import type { DrainResult, ReleaseResult, ServiceRoute, ServiceStatus, SlotName, SlotState } from '../../protocol/routes.js'

export class Router {
  private readonly services = new Map<string, Service>()
  // Admin changes are rare and must not interleave (two PUTs of one new service would
  // both bind); a promise chain runs them in order.
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly deps: ServiceDeps,
    private readonly store: RouteStore,
  ) {}

  /** Re-creates and re-binds every saved service; fails if any cannot listen. */
  restore(): Promise<void> {
    return this.change(async () => {
      for (const route of await this.store.load()) await this.add(route)
    }, false)
  }

  list(): ServiceStatus[] {
    return [...this.services.values()].map((service) => service.status())
  }

  get(name: string): ServiceStatus {
    return this.service(name).status()
  }

  snapshot(): ServiceSnapshot[] {
    return [...this.services.values()].map((service) => service.snapshot())
  }

  put(route: ServiceRoute): Promise<ServiceStatus> {
    return this.change(async () => {
      const existing = this.services.get(route.name)
      if (existing === undefined) await this.add(route)
      else await existing.update(route)
      return this.get(route.name)
    })
  }

  remove(name: string): Promise<void> {
    return this.change(async () => {
      const service = this.service(name)
      this.services.delete(name)
      await this.store.save(this.routes())
      await service.close(`service ${name} was removed from the proxy`)
    }, false)
  }

  setSlotState(name: string, slot: SlotName, state: SlotState): Promise<ServiceStatus> {
    return this.change(async () => {
      this.service(name).setSlotState(slot, state)
      return this.get(name)
    })
  }

  flip(name: string, to: SlotName): Promise<ServiceStatus> {
    return this.change(async () => {
      this.service(name).flip(to)
      return this.get(name)
    })
  }

  release(name: string, to: SlotName): Promise<ReleaseResult> {
    return this.change(async () => {
      const { released, longestHoldSeconds } = this.service(name).release(to)
      return { released, longestHoldSeconds, service: this.get(name) }
    })
  }

  /** Not queued: a drain wait can take minutes and must not block other changes. */
  waitDrained(name: string, slot: SlotName, timeoutMs: number): Promise<DrainResult> {
    return this.service(name).waitDrained(slot, timeoutMs)
  }

  /** Answers held requests and closes every listener; routes stay saved for the next start. */
  async close(): Promise<void> {
    await this.queue
    const services = [...this.services.values()]
    this.services.clear()
    await Promise.all(services.map((service) => service.close('the handover agent is shutting down')))
  }

  private async add(route: ServiceRoute): Promise<void> {
    const service = new Service(route, this.deps)
    try {
      await service.start()
    } catch (error) {
      await service.close('the service could not listen')
      throw error
    }
    this.services.set(route.name, service)
  }

  /** Runs one change after the previous one, then saves the table (unless the change saved it). */
  private change<T>(apply: () => Promise<T>, save = true): Promise<T> {
    const run = this.queue.then(async () => {
      const result = await apply()
      if (save) await this.store.save(this.routes())
      return result
    })
    this.queue = run.catch(() => undefined)
    return run
  }

  private routes(): ServiceRoute[] {
    return [...this.services.values()].map((service) => service.route())
  }

  private service(name: string): Service {
    const service = this.services.get(name)
    if (service === undefined) throw new UnknownServiceError(name)
    return service
  }
}
