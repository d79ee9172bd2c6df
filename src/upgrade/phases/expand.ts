import { reportCapture, reportStatement } from '../reporting/statement-facts.js'
import type { Phase } from '../run/upgrade-context.js'

/** The compatible schema changes, applied while v1 still serves on slot A. */
export const expand: Phase = {
  name: 'expand',
  async forward(context, signal) {
    await context.migrations.applyPart(context.scripts, 'expand', (applied) => reportStatement(context, applied), signal, (step) => reportCapture(context, step))
  },
  async undo(context, signal) {
    await context.migrations.undoPart(context.scripts, 'expand', 'expand-undo', (applied) => reportStatement(context, applied), signal)
  },
}
