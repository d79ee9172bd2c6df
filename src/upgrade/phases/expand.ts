import type { Phase } from '../upgrade-context.js'

/** The compatible schema changes, applied while v1 still serves on slot A. */
export const expand: Phase = {
  name: 'expand',
  async forward(context, signal) {
    await context.migrations.applyPart(context.scripts, 'expand', (applied) => {
      if (!applied.skipped) context.note(`expand ${applied.script}:${applied.line} ${applied.durationMs.toFixed(0)}ms${applied.algorithm ? ` ${applied.algorithm}` : ''}`)
    }, signal)
  },
  async undo(context, signal) {
    await context.migrations.undoPart(context.scripts, 'expand', 'expand-undo', undefined, signal)
  },
}
