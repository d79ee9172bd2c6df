import { SLOT_NAMES } from '../../config/config.js'
import { HandoverError } from '../../errors.js'
import { expectSlotVersion, expectVersion } from '../slots/slot-health.js'
import type { Phase, UpgradeContext } from '../run/upgrade-context.js'

export class VerifyError extends HandoverError {
  readonly code = 'VERIFY_FAILED'
}

const PROBES_THROUGH_PROXY = 10

/** Result checks: both slots serve the target version, directly and through the proxy. */
export const verify: Phase = {
  name: 'verify',
  async forward(context, signal) {
    const { service, proxy } = context.config
    for (const slot of SLOT_NAMES) await expectSlotVersion(context.config, slot, context.to.version, signal)
    const viaProxy = `http://${proxy.listen.host}:${proxy.listen.port}${service.versionPath}`
    for (let i = 0; i < PROBES_THROUGH_PROXY; i++) await expectVersion(viaProxy, context.to.version, signal)
    await checkAllSlotsActive(context, signal)
  },
}

async function checkAllSlotsActive(context: UpgradeContext, signal: AbortSignal): Promise<void> {
  const view = await context.proxy.getService(context.config.service.name, signal)
  for (const slot of SLOT_NAMES) {
    if (view.slots[slot].state !== 'active') throw new VerifyError(`slot ${slot} is ${view.slots[slot].state} after the upgrade, expected active`)
  }
}
