import { expectSlotVersion, slotUrl } from '../slots/slot-health.js'
import { httpGet } from '../../runtime/http-probe.js'
import { HandoverError } from '../../errors.js'
import { reportCapture, reportStatement } from '../reporting/statement-facts.js'
import type { Phase, UpgradeContext } from '../run/upgrade-context.js'

export class SmokeProbeError extends HandoverError {
  readonly code = 'SMOKE_PROBE_FAILED'
}

/**
 * With slot A stopped and slot B holding requests, nothing writes: the incompatible changes
 * run against a quiescent schema. Then B is checked and the buffer released to it, which is
 * the point of no return: from then on v2 writes in the new shape only.
 */
export const contract: Phase = {
  name: 'contract',
  async forward(context, signal) {
    await context.migrations.applyPart(context.scripts, 'contract', (applied) => reportStatement(context, applied), signal, (step) => reportCapture(context, step))
    await smokeProbe(context, signal)
    await releaseToStandby(context)
  },
  async undo(context, signal) {
    await context.migrations.undoPart(context.scripts, 'contract', 'contract-undo', (applied) => reportStatement(context, applied), signal)
  },
}

/** Read-only probes straight to B (not through the proxy, which is holding requests). */
async function smokeProbe(context: UpgradeContext, signal: AbortSignal): Promise<void> {
  const { service } = context.config
  const health = await httpGet(slotUrl(context.config, context.standby, service.healthPath), 5000, signal)
  if (health.status !== 200) throw new SmokeProbeError(`slot ${context.standby} answered ${health.status} to ${service.healthPath} after the contract`)
  await expectSlotVersion(context.config, context.standby, context.to.version, signal)
}

async function releaseToStandby(context: UpgradeContext): Promise<void> {
  const name = context.config.service.name
  // Run again after a crash past the crossing: the buffer may be released already (B active).
  const before = await context.proxy.getService(name)
  if (context.pointOfNoReturnPassed && before.slots[context.standby].state === 'active') return
  // Journal the crossing first: if we crash after the release, a resume must not undo.
  await context.markPointOfNoReturn(true)
  try {
    const { released, longestHoldSeconds } = await context.proxy.release(name, context.standby)
    context.report({ type: 'point-of-no-return-crossed', slot: context.standby })
    context.report({ type: 'requests-released', slot: context.standby, released, longestHoldSeconds: longestHoldSeconds ?? 0 })
  } catch (error) {
    const view = await context.proxy.getService(name).catch(() => undefined)
    if (view && view.slots[context.standby].state === 'buffering') await context.markPointOfNoReturn(false)
    throw error
  }
}
