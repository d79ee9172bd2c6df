import { expectSlotVersion, runSlotOn, slotAlreadyServes } from '../slots/slot-health.js'
import type { Phase } from '../run/upgrade-context.js'

/** Slot A, stopped since the flip, is recreated on the new image and rejoins the rotation. */
export const upgradeOld: Phase = {
  name: 'upgrade-old',
  async forward(context, signal) {
    // Run again after a crash: A may already be up on the new image; setting active again is harmless.
    if (!(await slotAlreadyServes(context, context.active, context.to.image, context.to.version, signal))) {
      await runSlotOn(context, context.active, context.to.image, signal)
      context.report({ type: 'container-replaced', slot: context.active, image: context.to.image, version: context.to.version })
      await expectSlotVersion(context.config, context.active, context.to.version, signal)
    }
    await context.proxy.setSlotState(context.config.service.name, context.active, 'active', signal)
  },
}
