import type { SlotName } from '../../config/config.js'
import type { DrainResult, ServiceRoute, ServiceStatus, SlotState } from '../../protocol/routes.js'
import type { UpgradeEvent } from '../../protocol/events.js'

/**
 * What an upgrade needs from the agent's proxy. The admin client implements it over the
 * unix socket; keeping the upgrade on this narrow surface keeps the phases readable. Each
 * call takes the phase's AbortSignal, so a cancelled phase stops waiting for the agent.
 */
export interface ProxyControl {
  getService(name: string, signal?: AbortSignal): Promise<ServiceStatus>
  putService(route: ServiceRoute, signal?: AbortSignal): Promise<ServiceStatus | void>
  setSlotState(service: string, slot: SlotName, state: SlotState, signal?: AbortSignal): Promise<void>
  flip(service: string, to: SlotName, signal?: AbortSignal): Promise<void>
  release(service: string, to: SlotName, signal?: AbortSignal): Promise<{ released: number; longestHoldSeconds?: number }>
  waitDrained(service: string, slot: SlotName, timeoutSeconds: number, signal?: AbortSignal): Promise<DrainResult>
  reportEvent(event: UpgradeEvent): Promise<void>
}
