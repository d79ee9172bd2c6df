/**
 * The shapes the proxy routes by. A service has two slots; each slot is one container
 * reached on a loopback port, and its state decides whether it gets new requests.
 */
export const SLOT_NAMES = ['blue', 'green'] as const
export type SlotName = (typeof SLOT_NAMES)[number]

export const SLOT_STATES = ['active', 'draining', 'disabled', 'buffering'] as const
export type SlotState = (typeof SLOT_STATES)[number]

export interface SlotRoute {
  host: string
  port: number
  state: SlotState
}

export interface BufferLimits {
  maxRequests: number
  maxWaitSeconds: number
}

export interface ServiceRoute {
  name: string
  listen: { host: string; port: number }
  slots: Record<SlotName, SlotRoute>
  buffer: BufferLimits
}

/** What the admin API reports about a slot: its route plus live counts. */
export interface SlotStatus extends SlotRoute {
  inFlight: number
}

export interface ServiceStatus {
  name: string
  listen: { host: string; port: number }
  slots: Record<SlotName, SlotStatus>
  buffer: BufferLimits
  buffered: number
}

export interface DrainResult {
  drained: boolean
  inFlight: number
}

export function otherSlot(slot: SlotName): SlotName {
  return slot === 'blue' ? 'green' : 'blue'
}
