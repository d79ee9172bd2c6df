import type { SlotName } from '../config/config.js'
import type { DrainResult, ServiceRoute, ServiceStatus, SlotState } from '../protocol/routes.js'
import type { UpgradeEvent } from '../protocol/events.js'

/**
 * What an upgrade needs from the agent's proxy. The admin client implements it over the
 * unix socket; keeping the upgrade on this narrow surface keeps the phases readable.
 */
export interface ProxyControl {
  getService(name: string): Promise<ServiceStatus>
  putService(route: ServiceRoute): Promise<ServiceStatus | void>
  setSlotState(service: string, slot: SlotName, state: SlotState): Promise<void>
  flip(service: string, to: SlotName): Promise<void>
  release(service: string, to: SlotName): Promise<{ released: number }>
  waitDrained(service: string, slot: SlotName, timeoutSeconds: number): Promise<DrainResult>
  reportEvent(event: UpgradeEvent): Promise<void>
}
