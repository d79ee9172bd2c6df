import { columnRefs, identifier, isNode, keyColumns, keyParts, tableName, tableNames, type Node, type TableName } from '../ast.js'
import type { Kind } from '../kinds.js'
import type { ObjectRef } from '../types.js'
import { classified, columnRef, indexRef, quoteName, quoteTable, Refusal, tableRef, type ClauseRule, type RuleContext, type RuleResult, type StatementRule, type Undo } from './rule.js'

/** One index or key being added, however it was written. */
interface NewIndex {
  kind: Kind
  label: string
  name?: string
  columns: string[]
  /** The key's columns with prefix lengths, for telling whether a re-added unique key is stricter. */
  parts?: { column: string; length?: number }[]
  /** A foreign key's parent table and columns. */
  references?: { table: TableName; columns: string[] }
}

/** ADD INDEX/KEY, FULLTEXT, SPATIAL (resource `index`). */
export const addIndex: ClauseRule = {
  matches: (clause) => clause.action === 'add' && clause.resource === 'index',
  classify: (clause, table, context) =>
    addition(table, { kind: 'add-index', label: `${String(clause.keyword ?? 'index').toLowerCase()}`, ...named(identifier(clause.index)), columns: keyColumns(clause.definition), parts: keyParts(clause.definition) }, context),
}

const CONSTRAINT_KINDS: [RegExp, Kind, string][] = [
  [/^primary key$/i, 'add-primary-key', 'primary key'],
  [/^unique/i, 'add-unique-index', 'unique index'],
  [/^foreign key$/i, 'add-foreign-key', 'foreign key'],
  [/^check$/i, 'add-check', 'check constraint'],
]

/** ADD [CONSTRAINT name] PRIMARY KEY / UNIQUE / FOREIGN KEY / CHECK (resource `constraint`). */
export const addConstraint: ClauseRule = {
  matches: (clause) => clause.action === 'add' && clause.resource === 'constraint' && isNode(clause.create_definitions),
  classify(clause, table, context) {
    const definition = clause.create_definitions as Node
    const type = String(definition.constraint_type ?? '')
    const entry = CONSTRAINT_KINDS.find(([pattern]) => pattern.test(type))
    if (!entry) throw new Refusal(`ADD ${type.toUpperCase()} on ${table.name}: no rule for this kind of constraint`)
    const name = identifier(definition.index) ?? identifier(definition.constraint)
    const index: NewIndex = { kind: entry[1], label: entry[2], ...named(name), columns: keyColumns(definition.definition), parts: keyParts(definition.definition) }
    if (entry[1] === 'add-check') index.columns = columnRefs(definition.definition).map((ref) => ref.column)
    const reference = isNode(definition.reference_definition) ? definition.reference_definition : undefined
    const parent = reference ? tableNames(reference.table)[0] : undefined
    if (reference && parent) index.references = { table: parent, columns: keyColumns(reference.definition) }
    return addition(table, index, context)
  },
}

/** CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX i ON t (...). */
export const createIndex: StatementRule = {
  matches: (ast) => ast.type === 'create' && ast.keyword === 'index',
  classify(ast, context) {
    const table = tableName(ast.table)
    const name = identifier(ast.index)
    if (!table || !name) throw new Refusal('CREATE INDEX without an index and table name the parser could read')
    const unique = String(ast.index_type ?? '').toLowerCase() === 'unique'
    const index: NewIndex = { kind: unique ? 'add-unique-index' : 'add-index', label: unique ? 'unique index' : 'index', name, columns: keyColumns(ast.index_columns), parts: keyParts(ast.index_columns) }
    const result = addition(table, index, context)
    if (result.undo && 'clause' in result.undo) result.undo = { statement: `DROP INDEX IF EXISTS ${quoteName(name)} ON ${quoteTable(table)}` }
    return [result]
  },
}

function named(name: string | undefined): { name?: string } {
  return name ? { name } : {}
}

function addition(table: TableName, index: NewIndex, context: RuleContext): RuleResult {
  const columns = index.columns.map((column) => columnRef(table, column))
  const references = index.references ? index.references.columns.map((column) => columnRef(index.references!.table, column)) : []
  // MariaDB names the primary key PRIMARY, and an unnamed index after its first column
  // (with _2, _3, ... when that name is taken): known when the table's indexes are.
  const serverName = index.name ?? (index.columns[0] ? context.state.serverIndexName(table.name, index.columns[0]) : undefined)
  const effectiveName = index.kind === 'add-primary-key' ? 'PRIMARY' : (serverName ?? index.columns[0])
  const writes: ObjectRef[] = effectiveName ? [indexRef(table, effectiveName)] : [tableRef(table)]
  const on = index.columns.length ? ` on (${index.columns.join(', ')})` : ''
  const fact = `adds ${index.label}${index.name ? ` ${index.name}` : serverName ? ` (the server names it ${serverName})` : ''} to ${table.name}${on}`
  const result: RuleResult = {
    clause: classified(index.kind, fact, { table, ...(index.name ? { index: index.name } : {}) }, [...writes, ...columns, ...references], writes),
    undo: indexUndo(index, serverName, context),
  }
  const added = index.kind === 'add-primary-key' ? 'PRIMARY' : serverName
  if (added && index.kind !== 'add-foreign-key' && index.kind !== 'add-check') {
    const unique = index.kind !== 'add-index'
    result.effect = (state) => state.addIndex(table.name, { name: added, unique, columns: index.parts ?? index.columns.map((column) => ({ column })) })
  }
  return result
}

function indexUndo(index: NewIndex, serverName: string | undefined, context: RuleContext): Undo {
  const name = index.name ?? serverName
  if (!name) return { unknown: `the ${index.label} has no name and the table's index names are not known; name it so its undo can drop it` }
  if (context.modifiers.ifNotExists) return { unknown: `with IF NOT EXISTS, ${name} may exist already and its undo would drop it` }
  if (index.kind === 'add-foreign-key') return { clause: `DROP FOREIGN KEY IF EXISTS ${quoteName(name)}` }
  return { clause: `DROP INDEX IF EXISTS ${quoteName(name)}` }
}

/** DROP INDEX/KEY, DROP PRIMARY KEY, DROP FOREIGN KEY, DROP CONSTRAINT/CHECK. */
export const dropIndex: ClauseRule = {
  matches: (clause) => clause.action === 'drop' && (clause.resource === 'index' || clause.resource === 'key' || clause.resource === 'constraint'),
  classify(clause, table) {
    const keyword = String(clause.keyword ?? '').toLowerCase()
    const name = identifier(clause.index) ?? identifier(clause.key) ?? identifier(clause.constraint) ?? ''
    if (keyword === 'primary key') return dropped(table, 'drop-primary-key', 'the primary key', 'PRIMARY')
    if (keyword === 'foreign key') return dropped(table, 'drop-foreign-key', `foreign key ${name}`, name)
    if (clause.resource === 'constraint') return dropped(table, 'drop-constraint', `constraint ${name}`, name)
    return dropped(table, name.toUpperCase() === 'PRIMARY' ? 'drop-primary-key' : 'drop-index', `index ${name}`, name)
  },
}

/** DROP INDEX i ON t. */
export const dropIndexStatement: StatementRule = {
  matches: (ast) => ast.type === 'drop' && ast.keyword === 'index',
  classify(ast) {
    const table = tableName(ast.table)
    const name = identifier(ast.name)
    if (!table || !name) throw new Refusal('DROP INDEX without an index and table name the parser could read')
    return [dropped(table, name.toUpperCase() === 'PRIMARY' ? 'drop-primary-key' : 'drop-index', `index ${name}`, name)]
  },
}

function dropped(table: TableName, kind: Kind, what: string, name: string): RuleResult {
  const ref = name ? indexRef(table, name) : tableRef(table)
  return {
    clause: classified(kind, `drops ${what} of ${table.name}`, { table, ...(name ? { index: name } : {}) }, [ref], [ref]),
    effect: (state) => state.dropIndex(table.name, name),
  }
}
