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
  /** Bytes all held requests may hold in memory together, heads and bodies. Default DEFAULT_BUFFER_MAX_BYTES. */
  maxBytes?: number
}

export const DEFAULT_BUFFER_MAX_BYTES = 64 * 1024 * 1024

/**
 * What one client may hold of a service (see docs/proxy-parser.md): every wait a client can
 * cause has a deadline, and no address can take a slot's upstream connections for itself.
 */
export interface ClientLimits {
  /** A request head not received whole within this is answered 408 and its connection closed. */
  headTimeoutSeconds: number
  /** A request body that sends nothing for this long is answered 408 and its connection closed. */
  bodyTimeoutSeconds: number
  /** A request that waits this long for an upstream connection is answered 503 with Retry-After. */
  upstreamWaitSeconds: number
  /**
   * Requests from one client address using or waiting for one slot's upstream connections at
   * once; more are answered 429 with Retry-After. Trusted forwarders are not counted, nor
   * are requests released from the buffer (its own limits bound them).
   */
  maxRequestsPerClient: number
}

export const DEFAULT_CLIENT_LIMITS: Readonly<ClientLimits> = {
  headTimeoutSeconds: 30,
  bodyTimeoutSeconds: 30,
  upstreamWaitSeconds: 10,
  maxRequestsPerClient: 128,
}
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 30

/** Active health check of each slot: GET `path` every interval (see health.ts). */
export interface HealthCheck {
  path: string
  intervalSeconds: number
  timeoutSeconds: number
  unhealthyThreshold: number
  healthyThreshold: number
}

export interface ServiceRoute {
  name: string
  listen: { host: string; port: number }
  slots: Record<SlotName, SlotRoute>
  buffer: BufferLimits
  /** Optional: without it only passive checks (failed connections) judge a slot's health. */
  health?: HealthCheck
  /** How long a draining slot's upgraded connections (WebSockets) may stay open. Default 30. */
  drainTimeoutSeconds?: number
  /**
   * Addresses or CIDR blocks of the proxies in front of this one whose X-Forwarded-For,
   * -Proto and -Host are kept (see forwarder-trust.ts). Default none: every client's are replaced.
   */
  trustedForwarders?: string[]
  /** What one client may hold (ClientLimits); a field left out takes the agent's default. */
  limits?: Partial<ClientLimits>
}

/** What the admin API reports about a slot: its route plus live counts. */
export interface SlotStatus extends SlotRoute {
  /** Requests in flight plus open upgraded connections. */
  inFlight: number
  /** Open upgraded (WebSocket) connections, part of inFlight. */
  tunnels: number
  healthy: boolean
  /** Seconds the last completed drain of this slot took, if it ever drained. */
  lastDrainSeconds?: number
}

/** What the admin API reports about a service: its route, with each slot's live counts. */
export interface ServiceStatus extends ServiceRoute {
  slots: Record<SlotName, SlotStatus>
  buffered: number
  /** Bytes the held requests hold, heads and bodies. */
  bufferedBytes?: number
}

/** What a release answers: how many held requests went to the slot, and the service after it. */
export interface ReleaseResult {
  released: number
  /** How long the oldest released request was held (0 when none was); absent from an older agent. */
  longestHoldSeconds?: number
  service: ServiceStatus
}

export interface DrainResult {
  drained: boolean
  inFlight: number
}

export function otherSlot(slot: SlotName): SlotName {
  return slot === 'blue' ? 'green' : 'blue'
}
