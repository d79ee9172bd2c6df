/**
 * Turns untrusted JSON (a PUT body or the state file) into a ServiceRoute, or names the
 * field that is wrong. Nothing is changed until a whole route has passed.
 */
import { InvalidInputError } from '../errors.js'
import { SLOT_NAMES, SLOT_STATES, type BufferLimits, type ServiceRoute, type SlotRoute } from './types.js'
import * as v from './validate.js'

export const MAX_BUFFERED_REQUESTS = 100_000
export const MAX_BUFFER_WAIT_SECONDS = 3600

/**
 * `where` prefixes field names (`body`, `services[2]`). The name comes from the body, or from
 * the URL path when `pathName` is given, in which case a body name must agree with it.
 */
export function parseServiceRoute(value: unknown, where: string, pathName?: string): ServiceRoute {
  const body = v.object(value, where, ['name', 'listen', 'slots', 'buffer'])
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
  const buffer = v.object(value, where, ['maxRequests', 'maxWaitSeconds'])
  return {
    maxRequests: v.integer(buffer.maxRequests, `${where}.maxRequests`, 0, MAX_BUFFERED_REQUESTS),
    maxWaitSeconds: v.finite(buffer.maxWaitSeconds, `${where}.maxWaitSeconds`, 0.001, MAX_BUFFER_WAIT_SECONDS),
  }
}
