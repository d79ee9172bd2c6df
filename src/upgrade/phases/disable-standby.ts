import { HandoverError } from '../../errors.js'
import type { SlotName } from '../../config/config.js'
import { routeWithSettings } from '../slots/service-route.js'
import type { Phase, UpgradeContext } from '../run/upgrade-context.js'

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

/** Waits until `slot` has no request in flight; throws after proxy.drainTimeoutSeconds. */
export async function drainOrThrow(context: UpgradeContext, slot: SlotName, signal?: AbortSignal): Promise<void> {
  const seconds = context.config.proxy.drainTimeoutSeconds
  const drain = await context.proxy.waitDrained(context.config.service.name, slot, seconds, signal)
  if (!drain.drained) throw new DrainTimeoutError(slot, drain.inFlight, seconds)
}

/**
 * The agent takes the config's proxy settings (they may have changed since deploy), then
 * slot B stops receiving new requests and finishes the ones it has. The settings are not
 * undone: they belong to the config, not to the version being installed.
 */
export const disableStandby: Phase = {
  name: 'disable-standby',
  async forward(context, signal) {
    const { service } = context.config
    const view = await context.proxy.getService(service.name, signal)
    await context.proxy.putService(routeWithSettings(context.config, view), signal)
    // Run again after a crash: a slot already disabled has drained (disabled → draining is refused).
    if (view.slots[context.standby].state === 'disabled') return
    await context.proxy.setSlotState(service.name, context.standby, 'draining', signal)
    await drainOrThrow(context, context.standby, signal)
    await context.proxy.setSlotState(service.name, context.standby, 'disabled', signal)
  },
  async undo(context, signal) {
    const name = context.config.service.name
    const view = await context.proxy.getService(name, signal)
    if (view.slots[context.standby].state !== 'active') await context.proxy.setSlotState(name, context.standby, 'active', signal)
  },
}
