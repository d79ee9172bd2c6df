import { identifier, isNode, keyColumns, keyParts, nodes, tableName, tableNames, type Node, type TableName } from '../ast.js'
import { columnState, readColumnDefinition } from '../column-definition.js'
import type { ColumnState, SchemaState } from '../schema-state.js'
import { tableCharset, withTableCharset } from '../table-charset.js'
import type { IndexModel, ObjectRef } from '../types.js'
import { classified, columnRef, quoteTable, Refusal, rowsRef, tableRef, type ClauseRule, type RuleContext, type RuleResult, type StatementRule, type Undo } from './rule.js'

/** CREATE TABLE, with columns, or LIKE another table. */
export const createTable: StatementRule = {
  matches: (ast) => ast.type === 'create' && ast.keyword === 'table',
  classify(ast, context) {
    const table = tableNames(ast.table)[0]
    if (!table) throw new Refusal('CREATE TABLE without a table name the parser could read')
    if (ast.temporary) throw new Refusal('a temporary table lives in one session only, and the parts may run in different sessions')
    if (isNode(ast.query_expr)) {
      throw new Refusal(
        `CREATE TABLE ${table.name} ... SELECT copies rows once while the old version keeps writing the source; create the table, then fill it with INSERT ... SELECT, which handover runs again in contract to catch up`,
      )
    }
    const like = isNode(ast.like) ? tableNames(ast.like.table)[0] : undefined
    const columns = like ? copiedColumns(context.state, like) : definedColumns(ast)
    const indexes = like ? likeIndexes(context.state, like) : definedIndexes(ast)
    const touches: ObjectRef[] = [tableRef(table), ...(like ? [tableRef(like)] : []), ...referencedColumns(ast)]
    const fact = like ? `creates table ${table.name} like ${like.name}` : `creates table ${table.name}`
    return [
      {
        clause: classified('create-table', fact, { table }, touches, [tableRef(table)]),
        undo: createUndo(table, ast.if_not_exists !== null && ast.if_not_exists !== undefined, context),
        effect: (state) => state.createTable(table.name, columns, indexes),
      },
    ]
  },
}

/** Each column as the server keeps it: in the primary key if a table-level PRIMARY KEY names it, with the table's character set. */
function definedColumns(ast: Node): ColumnState[] {
  const primary = new Set(definedIndexes(ast).find((index) => index.name === 'PRIMARY')?.columns.map((part) => part.column.toLowerCase()))
  const charset = tableCharset(ast)
  return nodes(ast.create_definitions).flatMap((node) => {
    if (node.resource !== 'column') return []
    const definition = readColumnDefinition(node)
    return definition ? [columnState({ ...definition, type: withTableCharset(definition.type, charset) }, true, primary.has(definition.name.toLowerCase()))] : []
  })
}

/**
 * The indexes the server makes for a CREATE TABLE, named as it names them: PRIMARY, the
 * given name, or an unnamed key's first column (with _2, _3 ... when taken).
 */
function definedIndexes(ast: Node): IndexModel[] {
  const indexes: IndexModel[] = []
  const nameFor = (given: string | undefined, first: string): string => {
    const taken = (name: string): boolean => indexes.some((index) => index.name.toLowerCase() === name.toLowerCase())
    if (given) return given
    let name = first
    for (let suffix = 2; taken(name) && suffix < 1000; suffix++) name = `${first}_${suffix}`
    return name
  }
  for (const node of nodes(ast.create_definitions)) {
    if (node.resource === 'column') {
      const column = identifier(node.column)
      if (column && typeof node.primary_key === 'string') indexes.push({ name: 'PRIMARY', unique: true, columns: [{ column }] })
      else if (column && typeof node.unique === 'string') indexes.push({ name: nameFor(undefined, column), unique: true, columns: [{ column }] })
      continue
    }
    const parts = keyParts(node.definition)
    const type = String(node.constraint_type ?? '').toLowerCase()
    if (parts.length === 0 || type === 'foreign key' || type === 'check') continue
    if (type === 'primary key') indexes.push({ name: 'PRIMARY', unique: true, columns: parts })
    else indexes.push({ name: nameFor(identifier(node.index) ?? identifier(node.constraint), parts[0]!.column), unique: type.startsWith('unique'), columns: parts })
  }
  return indexes
}

function likeIndexes(state: SchemaState, source: TableName): IndexModel[] | undefined {
  const indexes = state.table(source.name)?.indexes
  return indexes ? [...indexes.values()] : undefined
}

function copiedColumns(state: SchemaState, source: TableName): ColumnState[] | undefined {
  const table = state.table(source.name)
  return table?.complete ? [...table.columns.values()] : undefined
}

/** The parent columns that foreign keys of the new table reference: reordering around them matters. */
function referencedColumns(ast: Node): ObjectRef[] {
  return nodes(ast.create_definitions).flatMap((node) => {
    const reference = isNode(node.reference_definition) ? node.reference_definition : undefined
    const parent = reference ? tableNames(reference.table)[0] : undefined
    return reference && parent ? keyColumns(reference.definition).map((column) => columnRef(parent, column)) : []
  })
}

/** Dropping the table reverses the create, unless IF NOT EXISTS may have found one with data. */
function createUndo(table: TableName, ifNotExists: boolean, context: RuleContext): Undo {
  const drop = { statement: `DROP TABLE IF EXISTS ${quoteTable(table)}` }
  if (!ifNotExists || context.state.tableAbsent(table.name)) return drop
  if (context.state.table(table.name)) return { none: `${table.name} exists already, so CREATE TABLE IF NOT EXISTS changes nothing` }
  return { unknown: `with IF NOT EXISTS and no schema model, ${table.name} may exist already and its undo would drop its data` }
}

/** DROP TABLE; with IF EXISTS, a table the chain's schema does not have is a no-op (scripts drop before they create). */
export const dropTable: StatementRule = {
  matches: (ast) => ast.type === 'drop' && ast.keyword === 'table',
  classify: (ast, context) =>
    tableNames(ast.name).map((table): RuleResult => {
      if (/if exists/i.test(String(ast.prefix ?? '')) && context.state.tableAbsent(table.name)) {
        return { clause: classified('no-op', `drops table ${table.name} if it exists, and it does not`, { table }, [tableRef(table)], []), undo: { none: 'it changed nothing' } }
      }
      return {
        clause: classified('drop-table', `drops table ${table.name}`, { table }, [tableRef(table)], [tableRef(table)]),
        effect: (state: SchemaState) => state.dropTable(table.name),
      }
    }),
}

/** RENAME TABLE a TO b, c TO d: one change per pair. */
export const renameTable: StatementRule = {
  matches: (ast) => ast.type === 'rename',
  classify: (ast) =>
    (Array.isArray(ast.table) ? ast.table : []).flatMap((pair: unknown) => {
      const [from, to] = Array.isArray(pair) ? pair.map(tableName) : []
      return from && to ? [renamed(from, to)] : []
    }),
}

/** ALTER TABLE a RENAME [TO|AS] b. */
export const alterRenameTable: ClauseRule = {
  matches: (clause) => clause.action === 'rename' && clause.resource === 'table',
  classify(clause, table) {
    const to = tableName(clause.table)?.name
    if (!to) throw new Refusal(`RENAME of table ${table.name} without a new name the parser could read`)
    return renamed(table, { name: to })
  },
}

function renamed(from: TableName, to: TableName): RuleResult {
  return {
    clause: classified('rename-table', `renames table ${from.name} to ${to.name}`, { table: from, newName: to.name }, [tableRef(from), tableRef(to)], [tableRef(from), tableRef(to)]),
    effect: (state) => state.renameTable(from.name, to.name),
  }
}

export const truncateTable: StatementRule = {
  matches: (ast) => ast.type === 'truncate',
  classify: (ast) =>
    tableNames(ast.name).map((table) => ({
      clause: classified('truncate-table', `empties table ${table.name}`, { table }, [rowsRef(table)], [rowsRef(table)]),
    })),
}
