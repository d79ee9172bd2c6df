import { expectSlotVersion, slotUrl } from '../slot-health.js'
import { httpGet } from '../../runtime/http-probe.js'
import { HandoverError } from '../../errors.js'
import type { Phase, UpgradeContext } from '../upgrade-context.js'

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
    await context.migrations.applyPart(
      context.scripts,
      'contract',
      (applied) => {
        if (applied.skipped) return
        if (applied.replacedByCapture) return context.note(`contract ${applied.script}:${applied.line} catch-up not needed: the capture kept the backfill in step`)
        if (applied.rebuiltOnline) return context.note(`contract ${applied.script}:${applied.line} ${applied.durationMs.toFixed(0)}ms: the table rebuilt during the expand swapped in (the old one kept as ${applied.softDrop!.softName} until finalize)`)
        const soft = applied.softDrop ? ` (kept as ${applied.softDrop.softName} until finalize)` : ''
        context.note(`contract ${applied.script}:${applied.line} ${applied.durationMs.toFixed(0)}ms${soft}`)
      },
      signal,
      (step) => {
        if (step.replayed || step.removed.length) context.note(`contract: capture finished (${step.replayed} rows replayed, ${step.removed.length} triggers and change tables removed)`)
      },
    )
    await smokeProbe(context, signal)
    await releaseToStandby(context)
  },
  async undo(context, signal) {
    await context.migrations.undoPart(context.scripts, 'contract', 'contract-undo', undefined, signal)
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
  if (context.pointOfNoReturnPassed && before.slots[context.standby].state === 'active') return context.note(`the buffer was already released to ${context.standby}`)
  // Journal the crossing first: if we crash after the release, a resume must not undo.
  await context.markPointOfNoReturn(true)
  try {
    const { released } = await context.proxy.release(name, context.standby)
    context.note(`released ${released} held requests to ${context.standby}`)
  } catch (error) {
    const view = await context.proxy.getService(name).catch(() => undefined)
    if (view && view.slots[context.standby].state === 'buffering') await context.markPointOfNoReturn(false)
    throw error
  }
}
