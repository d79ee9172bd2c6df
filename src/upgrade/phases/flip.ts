import { waitSlotHealthy } from '../slot-health.js'
import type { Phase } from '../upgrade-context.js'
import { drainOrThrow } from './disable-standby.js'

/**
 * The upgraded slot B starts holding new requests in the proxy's buffer while slot A
 * finishes what it has; then A stops, and nothing writes to the database.
 */
export const flip: Phase = {
  name: 'flip',
  async forward(context) {
    const { service } = context.config
    await context.proxy.flip(service.name, context.standby)
    await drainOrThrow(context, context.active)
    await context.docker.stopSlot(service.name, context.active, service.stopTimeoutSeconds)
  },
  /** A still runs v1, which works on the expanded schema: give it the held requests back. */
  async undo(context) {
    const name = context.config.service.name
    const container = await context.docker.inspectSlot(name, context.active)
    if (!container?.running) {
      await context.docker.startSlot(name, context.active)
      await waitSlotHealthy(context.docker, context.config, context.active)
    }
    const view = await context.proxy.getService(name)
    if (view.slots[context.standby].state === 'buffering') await context.proxy.release(name, context.active)
    else if (view.slots[context.active].state !== 'active') await context.proxy.setSlotState(name, context.active, 'active')
    if (view.slots[context.standby].state === 'active') await context.proxy.setSlotState(name, context.standby, 'disabled')
  },
}
