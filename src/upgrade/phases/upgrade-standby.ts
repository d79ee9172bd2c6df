import { expectSlotVersion, runSlotOn } from '../slot-health.js'
import type { Phase } from '../upgrade-context.js'

/** Slot B, out of rotation, is recreated on the new image and must come up healthy. */
export const upgradeStandby: Phase = {
  name: 'upgrade-standby',
  async forward(context, signal) {
    await runSlotOn(context, context.standby, context.to.image, signal)
    await expectSlotVersion(context.config, context.standby, context.to.version, signal)
  },
  async undo(context, signal) {
    const current = await context.docker.inspectSlot(context.config.service.name, context.standby, signal)
    if (current?.running && current.image === context.from.image) return
    await runSlotOn(context, context.standby, context.from.image, signal)
  },
}
