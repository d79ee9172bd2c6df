/**
 * Turns untrusted JSON (a PUT body or the state file) into a ServiceRoute, or names the
 * field that is wrong. Nothing is changed until a whole route has passed.
 */
import { InvalidInputError } from '../../errors.js'
import { NOT_A_FORWARDER, parseForwarder } from '../http/forwarder-trust.js'
import {
  DEFAULT_BUFFER_MAX_BYTES,
  DEFAULT_DRAIN_TIMEOUT_SECONDS,
  SLOT_NAMES,
  SLOT_STATES,
  type BufferLimits,
  type ClientLimits,
  type HealthCheck,
  type ServiceRoute,
  type SlotRoute,
} from '../../protocol/routes.js'
import * as v from '../../protocol/validate.js'

export const MAX_BUFFERED_REQUESTS = 100_000
export const MAX_BUFFER_WAIT_SECONDS = 3600
export const MAX_BUFFER_BYTES = 64 * 1024 * 1024 * 1024
export const MAX_DRAIN_TIMEOUT_SECONDS = 3600
export const MAX_TRUSTED_FORWARDERS = 256
export const MAX_CLIENT_TIMEOUT_SECONDS = 3600
export const MAX_REQUESTS_PER_CLIENT = 100_000

const HEALTH_DEFAULTS = { intervalSeconds: 5, timeoutSeconds: 2, unhealthyThreshold: 2, healthyThreshold: 2 }

/**
 * `where` prefixes field names (`body`, `services[2]`). The name comes from the body, or from
 * the URL path when `pathName` is given, in which case a body name must agree with it.
 */
export function parseServiceRoute(value: unknown, where: string, pathName?: string): ServiceRoute {
  const body = v.object(value, where, ['name', 'listen', 'slots', 'buffer', 'health', 'drainTimeoutSeconds', 'trustedForwarders', 'limits'])
  // Checked in document order, so the first error reported is the first one in the file.
  const name = routeName(body.name, where, pathName)
  const listen = parseListen(body.listen, `${where}.listen`)
  const slots = v.object(body.slots, `${where}.slots`, SLOT_NAMES)
  return {
    name,
    listen,
    slots: {
      blue: parseSlot(slots.blue, `${where}.slots.blue`),
      green: parseSlot(slots.green, `${where}.slots.green`),
    },
    buffer: parseBuffer(body.buffer, `${where}.buffer`),
    ...(body.health === undefined ? {} : { health: parseHealth(body.health, `${where}.health`) }),
    drainTimeoutSeconds:
      body.drainTimeoutSeconds === undefined
        ? DEFAULT_DRAIN_TIMEOUT_SECONDS
        : v.finite(body.drainTimeoutSeconds, `${where}.drainTimeoutSeconds`, 0, MAX_DRAIN_TIMEOUT_SECONDS),
    ...(body.trustedForwarders === undefined ? {} : { trustedForwarders: parseForwarders(body.trustedForwarders, `${where}.trustedForwarders`) }),
    ...(body.limits === undefined ? {} : { limits: parseLimits(body.limits, `${where}.limits`) }),
  }
}

function routeName(value: unknown, where: string, pathName: string | undefined): string {
  if (pathName === undefined) return v.name(value, `${where}.name`)
  const fromPath = v.name(pathName, 'path.name')
  if (value !== undefined && value !== fromPath) {
    throw new InvalidInputError(`${where}.name`, `must be omitted or equal to the name in the path ("${fromPath}")`)
  }
  return fromPath
}

// Port 0 lets the OS choose; the agent then keeps and persists the port it was given.
function parseListen(value: unknown, where: string): ServiceRoute['listen'] {
  const listen = v.object(value, where, ['host', 'port'])
  return { host: v.host(listen.host, `${where}.host`), port: v.integer(listen.port, `${where}.port`, 0, 65535) }
}

function parseSlot(value: unknown, where: string): SlotRoute {
  const slot = v.object(value, where, ['host', 'port', 'state'])
  return {
    host: v.host(slot.host, `${where}.host`),
    port: v.integer(slot.port, `${where}.port`, 1, 65535),
    state: v.oneOf(slot.state, `${where}.state`, SLOT_STATES),
  }
}

function parseBuffer(value: unknown, where: string): BufferLimits {
  const buffer = v.object(value, where, ['maxRequests', 'maxWaitSeconds', 'maxBytes'])
  return {
    maxRequests: v.integer(buffer.maxRequests, `${where}.maxRequests`, 0, MAX_BUFFERED_REQUESTS),
    maxWaitSeconds: v.finite(buffer.maxWaitSeconds, `${where}.maxWaitSeconds`, 0.001, MAX_BUFFER_WAIT_SECONDS),
    // Optional so that routes from an older handover (and old state files) stay valid.
    maxBytes: buffer.maxBytes === undefined ? DEFAULT_BUFFER_MAX_BYTES : v.integer(buffer.maxBytes, `${where}.maxBytes`, 0, MAX_BUFFER_BYTES),
  }
}

function parseForwarders(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.length > MAX_TRUSTED_FORWARDERS) throw new InvalidInputError(where, `must be a list of at most ${MAX_TRUSTED_FORWARDERS} addresses or CIDR blocks`)
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'string' || parseForwarder(entry) === undefined) {
      throw new InvalidInputError(`${where}[${i}]`, NOT_A_FORWARDER)
    }
    return entry
  })
}

/** Every field is optional: one left out takes the agent's default (DEFAULT_CLIENT_LIMITS). */
function parseLimits(value: unknown, where: string): Partial<ClientLimits> {
  const limits = v.object(value, where, ['headTimeoutSeconds', 'bodyTimeoutSeconds', 'upstreamWaitSeconds', 'maxRequestsPerClient'])
  const out: Partial<ClientLimits> = {}
  for (const field of ['headTimeoutSeconds', 'bodyTimeoutSeconds', 'upstreamWaitSeconds'] as const) {
    if (limits[field] !== undefined) out[field] = v.finite(limits[field], `${where}.${field}`, 0.01, MAX_CLIENT_TIMEOUT_SECONDS)
  }
  if (limits.maxRequestsPerClient !== undefined) out.maxRequestsPerClient = v.integer(limits.maxRequestsPerClient, `${where}.maxRequestsPerClient`, 1, MAX_REQUESTS_PER_CLIENT)
  return out
}

/** `path` is required; every other field has a default. */
function parseHealth(value: unknown, where: string): HealthCheck {
  const health = v.object(value, where, ['path', 'intervalSeconds', 'timeoutSeconds', 'unhealthyThreshold', 'healthyThreshold'])
  const path = v.text(health.path, `${where}.path`, 1024)
  if (!path.startsWith('/') || /[\s\x00-\x1f]/.test(path)) throw new InvalidInputError(`${where}.path`, 'must start with "/" and contain no spaces or control characters')
  const or = <T>(field: unknown, fallback: T, parse: (x: unknown) => T): T => (field === undefined ? fallback : parse(field))
  const intervalSeconds = or(health.intervalSeconds, HEALTH_DEFAULTS.intervalSeconds, (x) => v.finite(x, `${where}.intervalSeconds`, 0.05, 3600))
  const timeoutSeconds = or(health.timeoutSeconds, Math.min(HEALTH_DEFAULTS.timeoutSeconds, intervalSeconds), (x) => v.finite(x, `${where}.timeoutSeconds`, 0.01, 60))
  if (timeoutSeconds > intervalSeconds) throw new InvalidInputError(`${where}.timeoutSeconds`, `must not exceed intervalSeconds (${intervalSeconds})`)
  return {
    path,
    intervalSeconds,
    timeoutSeconds,
    unhealthyThreshold: or(health.unhealthyThreshold, HEALTH_DEFAULTS.unhealthyThreshold, (x) => v.integer(x, `${where}.unhealthyThreshold`, 1, 100)),
    healthyThreshold: or(health.healthyThreshold, HEALTH_DEFAULTS.healthyThreshold, (x) => v.integer(x, `${where}.healthyThreshold`, 1, 100)),
  }
}
