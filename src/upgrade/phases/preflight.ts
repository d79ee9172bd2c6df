import { triggerProblems } from '../../db/migrations/undo/row-snapshot.js'
import { rowRestoredStatements } from '../../db/migrations/undo/restore-point.js'
import { redoLogShortfall, rewrittenTables } from '../../db/capture/redo-log-check.js'
import { SLOT_NAMES } from '../../config/config.js'
import { undoAdvice } from '../../db/migrations/scripts/migration-script.js'
import { checkHold, estimateContractHold } from '../../db/migrations/hold-estimate.js'
import { rehearse } from '../../db/rehearsal/rehearsal.js'
import { rehearseVersionWrite } from '../../db/migrations/versions/version-table.js'
import { HandoverError } from '../../errors.js'
import type { Phase, UpgradeContext } from '../run/upgrade-context.js'

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
    const triggers = await triggerProblems(context.db, context.config.database.schema, rowRestoredStatements(context.scripts))
    if (triggers.length) throw new PreflightError(`a failed upgrade could not roll back: ${triggers.join('; ')}`)
    context.report({ type: 'plan-made', scripts: context.scripts.map((script) => script.name) })
    const rehearsed = await rehearse(context.db, context.config.database.schema, context.scripts, signal, (copy, asCopyUser) =>
      rehearseVersionWrite(asCopyUser, context.config.database, context.to.version, copy),
    )
    await context.rememberAlgorithms(rehearsed)
    const copies = rehearsed.filter((statement) => statement.algorithm === 'COPY' && !statement.part.endsWith('-undo'))
    context.report({ type: 'rehearsal-passed', statements: rehearsed.length, copying: copies.map((statement) => `${statement.script}:${statement.line}`) })
    const online = await context.migrations.plannedRebuilds(context.scripts)
    for (const spec of online) context.report({ type: 'rebuild-planned', script: spec.script, table: spec.table })
    const shortfall = await redoLogShortfall(context.db, context.config.database.schema, rewrittenTables(context.scripts, rehearsed, online))
    if (shortfall) context.report({ type: 'redo-log-small', ...shortfall })
    const hold = await estimateContractHold(context.db, context.config.database.schema, context.scripts, rehearsed, online)
    if (hold.statements.length) context.report({ type: 'hold-estimated', seconds: hold.seconds, statements: hold.statements.map((entry) => `${entry.script}:${entry.line} ${entry.how} ${entry.table}`) })
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
