import { waitSlotHealthy } from '../slots/slot-health.js'
import type { Phase } from '../run/upgrade-context.js'
import { drainOrThrow } from './disable-standby.js'

/**
 * The upgraded slot B starts holding new requests in the proxy's buffer while slot A
 * finishes what it has; then A stops, and nothing writes to the database.
 */
export const flip: Phase = {
  name: 'flip',
  async forward(context, signal) {
    const { service } = context.config
    // Run again after a crash: a flip already made (B buffering) is not made again; A's
    // drain and stop below are no-ops once done.
    const view = await context.proxy.getService(service.name, signal)
    if (view.slots[context.standby].state !== 'buffering') await context.proxy.flip(service.name, context.standby, signal)
    await drainOrThrow(context, context.active, signal)
    await context.docker.stopSlot(service.name, context.active, service.stopTimeoutSeconds, signal)
  },
  /** A still runs v1, which works on the expanded schema: give it the held requests back. */
  async undo(context, signal) {
    const name = context.config.service.name
    const container = await context.docker.inspectSlot(name, context.active, signal)
    if (!container?.running) {
      await context.docker.startSlot(name, context.active, signal)
      await waitSlotHealthy(context.docker, context.config, context.active, signal)
    }
    const view = await context.proxy.getService(name, signal)
    if (view.slots[context.standby].state === 'buffering') {
      const { released, longestHoldSeconds } = await context.proxy.release(name, context.active, signal)
      context.report({ type: 'requests-released', slot: context.active, released, longestHoldSeconds: longestHoldSeconds ?? 0 })
    } else if (view.slots[context.active].state !== 'active') await context.proxy.setSlotState(name, context.active, 'active', signal)
    if (view.slots[context.standby].state === 'active') await context.proxy.setSlotState(name, context.standby, 'disabled', signal)
  },
}
