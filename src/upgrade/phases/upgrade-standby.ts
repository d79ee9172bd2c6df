import { expectSlotVersion, runSlotOn, slotAlreadyServes } from '../slots/slot-health.js'
import type { Phase } from '../run/upgrade-context.js'

/** Slot B, out of rotation, is recreated on the new image and must come up healthy. */
export const upgradeStandby: Phase = {
  name: 'upgrade-standby',
  async forward(context, signal) {
    // Run again after a crash: B may already be up on the new image.
    if (await slotAlreadyServes(context, context.standby, context.to.image, context.to.version, signal)) return
    await runSlotOn(context, context.standby, context.to.image, signal)
    context.report({ type: 'container-replaced', slot: context.standby, image: context.to.image, version: context.to.version })
    await expectSlotVersion(context.config, context.standby, context.to.version, signal)
  },
  async undo(context, signal) {
    if (await slotAlreadyServes(context, context.standby, context.from.image, context.from.version, signal)) return
    await runSlotOn(context, context.standby, context.from.image, signal)
    context.report({ type: 'container-replaced', slot: context.standby, image: context.from.image, version: context.from.version })
  },
}
