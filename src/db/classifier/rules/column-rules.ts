import { columnRefs, identifier, isNode, type Node, type TableName } from '../ast.js'
import { columnState, readColumnDefinition, type ColumnDefinition } from '../column-definition.js'
import { formatType } from '../column-type.js'
import type { Kind } from '../kinds.js'
import { classified, columnLabel, columnRef, quoteName, Refusal, type ClauseRule, type RuleContext, type Undo } from './rule.js'

/** ADD [COLUMN] c <definition>: expand when the old version's inserts still succeed. */
export const addColumn: ClauseRule = {
  matches: (clause) => clause.action === 'add' && clause.resource === 'column',
  classify(clause, table, context) {
    const definition = readColumnDefinition(clause)
    if (!definition) throw new Refusal(`ADD COLUMN on ${table.name} without a column definition the parser could read`)
    const [kind, fact] = addColumnKind(definition, columnLabel(table, definition.name))
    const column = columnRef(table, definition.name)
    const after = isNode(clause.suffix) ? identifier(clause.suffix.expr) : undefined
    const used = [...columnRefs(clause.generated), ...(after ? [{ column: after }] : [])].map((ref) => columnRef(table, ref.column))
    const exists = 'found' in context.state.column(table.name, definition.name)
    return {
      clause: classified(kind, fact, { table, column: definition.name }, [column, ...used], [column]),
      undo: addColumnUndo(table, definition.name, context),
      effect: (state) => {
        if (!(context.modifiers.ifNotExists && exists)) state.setColumn(table.name, columnState(definition, true))
      },
    }
  },
}

function addColumnKind(definition: ColumnDefinition, label: string): [Kind, string] {
  const type = formatType(definition.type)
  if (!definition.nullable && !definition.hasDefault && !definition.serverFilled) return ['add-not-null-column', `adds NOT NULL column ${label} ${type} without a default`]
  if (definition.unique && !definition.serverFilled && !(definition.nullable && !definition.hasDefault)) {
    return ['add-unique-index', `adds column ${label} declared unique with a value every existing row shares`]
  }
  if (definition.serverFilled) return ['add-column', `adds column ${label} ${type}, filled by the server`]
  if (definition.hasDefault) return ['add-column', `adds column ${label} ${type} with a default`]
  return ['add-column', `adds nullable column ${label} ${type}`]
}

function addColumnUndo(table: TableName, column: string, context: RuleContext): Undo {
  const drop = { clause: `DROP COLUMN IF EXISTS ${quoteName(column)}` }
  if (!context.modifiers.ifNotExists) return drop
  const lookup = context.state.column(table.name, column)
  if ('found' in lookup) return { none: `${columnLabel(table, column)} exists already, so ADD COLUMN IF NOT EXISTS changes nothing` }
  if (context.state.table(table.name)?.complete) return drop
  return { unknown: `with IF NOT EXISTS and no schema model, ${columnLabel(table, column)} may exist already and its undo would drop its data` }
}

export const dropColumn: ClauseRule = {
  matches: (clause) => clause.action === 'drop' && clause.resource === 'column',
  classify(clause, table) {
    const name = identifier(clause.column)
    if (!name) throw new Refusal(`DROP COLUMN on ${table.name} without a column name the parser could read`)
    const column = columnRef(table, name)
    return {
      clause: classified('drop-column', `drops column ${columnLabel(table, name)}`, { table, column: name }, [column], [column]),
      effect: (state) => state.dropColumn(table.name, name),
    }
  },
}

/** RENAME COLUMN a TO b (CHANGE with a new name is handled with MODIFY). */
export const renameColumn: ClauseRule = {
  matches: (clause) => clause.action === 'rename' && clause.resource === 'column',
  classify(clause: Node, table) {
    const from = identifier(clause.old_column)
    const to = identifier(clause.column)
    if (!from || !to) throw new Refusal(`RENAME COLUMN on ${table.name} without names the parser could read`)
    const refs = [columnRef(table, from), columnRef(table, to)]
    return {
      clause: classified('rename-column', `renames column ${columnLabel(table, from)} to ${to}`, { table, column: from, newName: to }, refs, refs),
      effect: (state) => state.renameColumn(table.name, from, to),
    }
  },
}
