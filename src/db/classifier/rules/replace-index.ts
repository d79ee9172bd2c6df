import type { TableName } from '../ast.js'
import type { IndexModel } from '../types.js'
import { classified, indexRef, type RuleContext, type RuleResult } from './rule.js'

const ADDED = new Set(['add-index', 'add-unique-index'])
const DROPPED = new Set(['drop-index', 'drop-primary-key'])

/**
 * One ALTER that drops an index and adds one under the same name swaps it atomically: no
 * query of the old version ever runs without it. The pair is compatible unless the new key is
 * stricter than the old one: unique where the old was not, or unique over fewer columns or
 * shorter prefixes (values the old version writes could then collide).
 */
export function replacedIndexes(table: TableName, results: RuleResult[], context: RuleContext): RuleResult[] {
  const out = [...results]
  for (const drop of results) {
    if (!DROPPED.has(drop.clause.kind) || !drop.clause.index) continue
    const name = drop.clause.index.toLowerCase()
    const add = results.find((result) => ADDED.has(result.clause.kind) && addedName(result) === name)
    if (!add) continue
    const before = context.state.index(table.name, drop.clause.index)
    const after = addedIndex(add)
    if (!before || !after || stricter(before, after)) continue
    const ref = indexRef(table, drop.clause.index)
    const replaced: RuleResult = {
      clause: classified('replace-index', `replaces index ${drop.clause.index} of ${table.name} in one ALTER with ${describe(after)}`, { table, index: drop.clause.index }, [...add.clause.touches, ref], [ref]),
      // The old version ran on the new index from the expand on, so it can keep it after a rollback.
      undo: { none: 'the old version works with the new index, so it stays' },
      effect: (state) => {
        drop.effect?.(state)
        add.effect?.(state)
      },
    }
    out.splice(out.indexOf(drop), 1)
    out.splice(out.indexOf(add), 1, replaced)
  }
  return out
}

function addedName(result: RuleResult): string | undefined {
  return result.clause.writes.find((ref) => ref.index)?.index?.toLowerCase()
}

/** The index an add-index result describes, read back from the state change it would make. */
function addedIndex(result: RuleResult): IndexModel | undefined {
  let added: IndexModel | undefined
  const probe = { addIndex: (_table: string, index: IndexModel) => (added = index) }
  result.effect?.(probe as never)
  return added
}

function stricter(before: IndexModel, after: IndexModel): boolean {
  if (!after.unique) return before.unique
  if (!before.unique) return true
  return !before.columns.every((old) => {
    const kept = after.columns.find((part) => part.column.toLowerCase() === old.column.toLowerCase())
    if (!kept) return false
    return kept.length === undefined || (old.length !== undefined && kept.length >= old.length)
  })
}

function describe(index: IndexModel): string {
  return `${index.unique ? 'a unique key' : 'an index'} on (${index.columns.map((part) => part.column + (part.length ? `(${part.length})` : '')).join(', ')})`
}
