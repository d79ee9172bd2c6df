import { isNode } from '../ast.js'
import { classified, type StatementRule } from './rule.js'

/**
 * A SELECT that only reads, such as the `SELECT 'Upgrading ...' AS MESSAGE` banners vendor
 * scripts print: nothing for the old version to tolerate and nothing to undo. One that
 * writes (INTO) or locks rows (FOR UPDATE) is left to the refusal.
 */
export const readOnly: StatementRule = {
  matches: (ast) => ast.type === 'select' && !(isNode(ast.into) && ast.into.position !== null && ast.into.position !== undefined) && !ast.locking_read,
  classify: () => [
    {
      clause: classified('read-only', 'only reads', { table: { name: '' } }, [], []),
      undo: { none: 'it changed nothing' },
    },
  ],
}
