import { HandoverError } from '../../errors.js'
import type { Phase } from '../upgrade-context.js'

export class DrainTimeoutError extends HandoverError {
  readonly code = 'DRAIN_TIMEOUT'

  constructor(
    readonly slot: string,
    readonly inFlight: number,
    readonly seconds: number,
  ) {
    super(`slot ${slot} still had ${inFlight} requests in flight after ${seconds}s; raise proxy.drainTimeoutSeconds or find the stuck requests`)
  }
}

/** Slot B stops receiving new requests and finishes the ones it has. */
export const disableStandby: Phase = {
  name: 'disable-standby',
  timeoutSeconds: (context) => context.config.proxy.drainTimeoutSeconds + 30,
  async forward(context) {
    const { service, proxy } = context.config
    await context.proxy.setSlotState(service.name, context.standby, 'draining')
    const drain = await context.proxy.waitDrained(service.name, context.standby, proxy.drainTimeoutSeconds)
    if (!drain.drained) throw new DrainTimeoutError(context.standby, drain.inFlight, proxy.drainTimeoutSeconds)
    await context.proxy.setSlotState(service.name, context.standby, 'disabled')
  },
  async undo(context) {
    const name = context.config.service.name
    const view = await context.proxy.getService(name)
    if (view.slots[context.standby].state !== 'active') await context.proxy.setSlotState(name, context.standby, 'active')
  },
}
