import { SLOT_NAMES } from '../../config/config.js'
import { undoAdvice } from '../../db/migrations/migration-script.js'
import { checkHold, estimateContractHold } from '../../db/migrations/hold-estimate.js'
import { rehearse } from '../../db/rehearsal/rehearsal.js'
import { rehearseVersionWrite } from '../../db/migrations/version-table.js'
import { HandoverError } from '../../errors.js'
import type { Phase, UpgradeContext } from '../upgrade-context.js'

export class PreflightError extends HandoverError {
  readonly code = 'PREFLIGHT_FAILED'
}

/** Checks everything the later phases rely on, before any of them changes anything. */
export const preflight: Phase = {
  name: 'preflight',
  async forward(context, signal) {
    const { service } = context.config
    const route = await context.proxy.getService(service.name, signal)
    for (const slot of SLOT_NAMES) {
      if (route.slots[slot].state !== 'active') {
        throw new PreflightError(
          `slot ${slot} of ${service.name} is ${route.slots[slot].state} in the proxy, not active; ` +
            'a previous run may not have finished: see `handover status`',
        )
      }
      const container = await context.docker.inspectSlot(service.name, slot, signal)
      if (!container?.running) throw new PreflightError(`slot ${slot} of ${service.name} has no running container; deploy it first`)
    }
    await checkScripts(context)
    context.note(`plan: ${context.from.version} → ${context.to.version}, scripts: ${context.scripts.map((s) => s.name).join(', ') || 'none'}`)
    const rehearsed = await rehearse(context.db, context.config.database.schema, context.scripts, signal, (copy) =>
      rehearseVersionWrite(context.db, context.config.database, context.to.version, copy),
    )
    await context.rememberAlgorithms(rehearsed)
    const copies = rehearsed.filter((statement) => statement.algorithm === 'COPY' && !statement.part.endsWith('-undo'))
    context.note(`rehearsal on a copy of the schema: ${rehearsed.length} statements ok${copies.length ? `; these copy their table: ${copies.map((s) => `${s.script}:${s.line}`).join(', ')}` : ''}`)
    const online = await context.migrations.plannedRebuilds(context.scripts)
    for (const spec of online) context.note(`${spec.script}: the contract's rebuild of ${spec.table} is built beside it during the expand and swapped in by the contract`)
    const hold = await estimateContractHold(context.db, context.config.database.schema, context.scripts, rehearsed, online)
    if (hold.statements.length) context.note(`the contract holds requests for about ${hold.seconds.toFixed(1)} s (${hold.statements.map((entry) => `${entry.script}:${entry.line} ${entry.how} ${entry.table}`).join(', ')})`)
    checkHold(hold, context.config.proxy.buffer.maxWaitSeconds)
  },
}

async function checkScripts(context: UpgradeContext): Promise<void> {
  for (const script of context.scripts) {
    if (script.undoProblems.length === 0) continue
    // Each problem names its file and line.
    throw new PreflightError(`a failed upgrade could not roll back ${script.name}: ${script.undoProblems.join('; ')}; ${undoAdvice(script)}`)
  }
}
