import { redoLogAdvice } from '../db/capture/redo-log-check.js'
import { holdProblem } from '../db/migrations/hold-estimate.js'
import { restoredBy } from '../db/migrations/undo/restore-point.js'
import { HistoryMismatchError } from '../db/migrations/history-consistency.js'
import { undoAdvice } from '../db/migrations/scripts/migration-script.js'
import { formatVersion } from '../db/migrations/versions/version.js'
import type { UpgradePlan } from '../upgrade/planning/plan-upgrade.js'
import type { PlanJson } from './json-output.js'

/** The plan as `handover plan` reports it, text or --json. */
export function toPlanJson(plan: UpgradePlan): PlanJson {
  const refusals = plan.steps.flatMap((step) => step.script.undoProblems.map((problem) => `${problem}; ${undoAdvice(step.script)}; a failed upgrade could not roll it back`))
  if (plan.hold.seconds > plan.maxWaitSeconds) refusals.push(holdProblem(plan.hold, plan.maxWaitSeconds))
  if (plan.staleHistory.length) refusals.push(new HistoryMismatchError(plan.staleHistory).message)
  refusals.push(...plan.rowUndoProblems)
  const undo = plan.rehearsed.filter((s) => s.part.endsWith('-undo')).length
  return {
    schema: plan.schema,
    current: plan.current,
    target: plan.target,
    allowed: refusals.length === 0,
    refusals,
    warnings: plan.redoLog ? [redoLogAdvice(plan.redoLog)] : [],
    scripts: plan.steps.map((step) => ({
      name: step.script.name,
      from: formatVersion(step.from),
      to: formatVersion(step.to),
      replaces: step.replaces.length > 1 ? step.replaces.map((s) => s.name) : [],
      statements: plan.rehearsed
        .filter((s) => s.script === step.script.name && !s.part.endsWith('-undo'))
        .map((statement) => {
          const planned = step.script.parts[statement.part][statement.index]!
          return {
            part: statement.part,
            line: statement.line,
            sql: planned.sql.replace(/\s+/g, ' '),
            kind: planned.classified?.kind ?? null,
            algorithm: statement.algorithm ?? null,
            keptAs: statement.softDrop?.softName ?? null,
            undoneBy: (statement.part === 'contract' && !step.script.marked && !statement.softDrop ? restoredBy(planned.classified) : undefined) ?? null,
            backfill: statement.backfill ? { capture: statement.backfill.capture, chunked: statement.backfill.chunks !== undefined } : null,
            replacedByCapture: statement.replacedByCapture === true,
            rebuiltOnline: statement.part === 'contract' && plan.rebuiltOnline.some((spec) => spec.script === statement.script && spec.index === statement.index),
            heldSeconds: plan.hold.statements.find((held) => held.script === statement.script && held.line === statement.line && statement.part === 'contract')?.seconds ?? null,
          }
        }),
    })),
    rehearsal: { statements: plan.rehearsed.length - undo, undoStatements: undo },
    hold: { estimateSeconds: plan.hold.seconds, maxWaitSeconds: plan.maxWaitSeconds },
  }
}
