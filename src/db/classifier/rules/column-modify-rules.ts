import { identifier, type TableName } from '../ast.js'
import { columnState, readColumnDefinition, type ColumnDefinition } from '../column-definition.js'
import { formatType } from '../column-type.js'
import type { Kind } from '../kinds.js'
import type { ColumnState } from '../schema-state.js'
import { compareTypes } from '../type-change.js'
import { classified, columnLabel, columnRef, Refusal, type ClauseRule, type RuleResult, type Undo } from './rule.js'

/**
 * MODIFY c <definition> and CHANGE old new <definition>. MySQL replaces the whole column
 * definition, so the new one is compared with the current one: type, nullability, default.
 * Without the current column the answer is contract, since it may narrow.
 */
export const modifyColumn: ClauseRule = {
  matches: (clause) => (clause.action === 'modify' || clause.action === 'change') && clause.resource === 'column',
  classify(clause, table, context) {
    const definition = readColumnDefinition(clause)
    const oldName = clause.action === 'change' ? identifier(clause.old_column) : definition?.name
    if (!definition || !oldName) throw new Refusal(`${String(clause.action).toUpperCase()} on ${table.name} without a column definition the parser could read`)
    const renamed = oldName.toLowerCase() !== definition.name.toLowerCase()
    const lookup = context.state.column(table.name, oldName)
    const current = 'found' in lookup ? lookup.found : undefined
    const [kind, fact, rounds] = renamed
      ? (['rename-column', `renames column ${columnLabel(table, oldName)} to ${definition.name}`, valuesMayChange(current, definition)] as const)
      : current
        ? compareColumn(table, current, definition)
        : (['modify-column', `changes column ${columnLabel(table, oldName)} to ${describe(definition)} (${'missing' in lookup ? lookup.missing : ''})`, false] as const)
    const refs = [columnRef(table, oldName), ...(renamed ? [columnRef(table, definition.name)] : [])]
    // Name and values stay: a statement after this one reads the column as it would before.
    const writes = SAME_VALUES.has(kind) ? [] : refs
    const result: RuleResult = {
      clause: classified(kind, fact, { table, column: oldName, ...(renamed ? { newName: definition.name } : {}) }, refs, writes),
      effect: (state) => {
        if (renamed) state.renameColumn(table.name, oldName, definition.name)
        state.setColumn(table.name, columnState(definition, current?.added ?? false, current?.primaryKey ?? false))
      },
    }
    result.clause.redefines = refs
    if (rounds) result.clause.valuesMayChange = true
    const undo = keepUndo(kind)
    if (undo) result.undo = undo
    return result
  },
}

const SAME_VALUES = new Set<Kind>(['set-not-null', 'drop-default', 'drop-not-null', 'restate-column', 'add-auto-increment'])

function describe(definition: ColumnDefinition): string {
  return `${formatType(definition.type)}${definition.nullable ? '' : ' NOT NULL'}`
}

/** Whether a renamed column's values may change in place (see ClassifiedClause.valuesMayChange); unknown for a column the model lacks. */
function valuesMayChange(current: ColumnState | undefined, next: ColumnDefinition): boolean {
  if (current === undefined) return true
  const type = compareTypes(current.type, next.type)
  return type.verdict === 'change' || type.rounds === true
}

/** The aspects of the change, most severe first; the first one names the kind; then whether a narrowing rounds values. */
function compareColumn(table: TableName, current: ColumnState, next: ColumnDefinition): [Kind, string, boolean] {
  const label = columnLabel(table, current.name)
  const type = compareTypes(current.type, next.type)
  // The server keeps a primary key column NOT NULL whatever the MODIFY says.
  const nullable = next.nullable && !current.primaryKey
  const [wasFilled, isFilled] = [current.autoIncrement === true, next.autoIncrement]
  const aspects: [Kind, string][] = []
  if (wasFilled && !isFilled) aspects.push(['drop-auto-increment', `removes AUTO_INCREMENT from ${label}`])
  if (type.verdict === 'change') aspects.push(['change-column-type', `changes the type of ${label} from ${type.detail}`])
  if (type.verdict === 'narrow') aspects.push(['narrow-column', `narrows ${label} from ${type.detail}`])
  if (current.nullable && !nullable) aspects.push(['set-not-null', `makes ${label} NOT NULL`])
  const defaultLost = !wasFilled && !nullable && !next.hasDefault && !next.serverFilled && current.hasDefault
  if (defaultLost) aspects.push(['drop-default', `removes the default of NOT NULL column ${label}`])
  if (!wasFilled && isFilled) aspects.push(['add-auto-increment', `makes ${label} AUTO_INCREMENT`])
  if (type.verdict === 'widen') aspects.push(['widen-column', `widens ${label} from ${type.detail}`])
  if (!current.nullable && nullable) aspects.push(['drop-not-null', `makes ${label} nullable`])
  if (aspects.length === 0) return ['restate-column', `restates ${label} as ${describe(next)}`, false]
  return [aspects[0]![0], aspects.map(([, fact]) => fact).join(', and '), type.verdict === 'change' || type.rounds === true]
}

/** An expand change of a column is kept on rollback: the old version works with it. */
function keepUndo(kind: Kind): Undo | undefined {
  if (kind === 'widen-column') return { none: 'the wider type is compatible with the old version, so it stays' }
  if (kind === 'drop-not-null') return { none: 'the nullable column is compatible with the old version, so it stays' }
  if (kind === 'restate-column') return { none: 'nothing changed' }
  if (kind === 'add-auto-increment') return { none: "the old version's inserts work with the server filling the column, so it stays" }
  return undefined
}
