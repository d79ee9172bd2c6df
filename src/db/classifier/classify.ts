import type { SqlStatement } from '../migrations/scripts/sql-statements.js'
import type { Node } from './ast.js'
import { UnclassifiableStatementError } from './errors.js'
import { parseStatement } from './parse.js'
import { classifyAst } from './rules/index.js'
import { quoteTable, Refusal, type RuleResult } from './rules/rule.js'
import { SchemaState } from './schema-state.js'
import type { ClassifiedClause, ClassifiedStatement, ClassifyOptions, ObjectRef } from './types.js'

/** Classifies one statement on its own: the schema model, if given, is the schema before it. */
export function classifyStatement(statement: SqlStatement, options: ClassifyOptions = {}): ClassifiedStatement {
  return new ScriptClassifier(options).classify(statement)
}

/**
 * Classifies the statements of one script in file order, carrying the schema forward: a
 * column added by one statement is known (and known to be new) to the next.
 */
export class ScriptClassifier {
  readonly state: SchemaState
  private readonly file: string | undefined

  constructor(options: ClassifyOptions = {}) {
    this.file = options.file
    this.state = options.state ?? new SchemaState(options.schema)
  }

  /** Throws UnparseableStatementError or UnclassifiableStatementError. */
  classify(statement: SqlStatement): ClassifiedStatement {
    const parsed = parseStatement(statement, this.file)
    let results: RuleResult[]
    try {
      results = classifyAst(parsed.ast, { state: this.state, modifiers: parsed.modifiers, tables: parsed.tables, columns: parsed.columns })
    } catch (error) {
      if (error instanceof Refusal) throw new UnclassifiableStatementError(this.file, statement.line, error.message)
      throw error
    }
    if (results.length === 0) throw new UnclassifiableStatementError(this.file, statement.line, 'the statement names no table the parser could read')
    for (const result of results) onChainTable(result, this.state)
    for (const result of results) result.effect?.(this.state)
    const expand = results.filter((result) => result.clause.part === 'expand')
    const contract = results.filter((result) => result.clause.part === 'contract')
    if (expand.length && contract.length) for (const result of expand) withTheRest(result, contract, parsed.ast)
    return combine(statement, results)
  }

  /** Where the next script of the chain starts from: this one's changes are the schema's now. */
  nextScript(): void {
    this.state.nextScript()
  }
}

/**
 * A change to a table an earlier statement of this script created: the old version never
 * uses that table, so no constraint, drop or type change there can break it, and the
 * create's undo, which drops the whole table, undoes it too. A table an earlier script of
 * the chain created keeps each change's own class and undo: that script's undo runs only
 * after this one's, and a key this script adds to a table it also creates would otherwise
 * still point at it.
 */
function onChainTable(result: RuleResult, state: SchemaState): void {
  const table = result.clause.table ? state.table(result.clause.table) : undefined
  if (result.clause.part !== 'contract' || !table?.createdHere || result.clause.kind === 'rename-table') return
  result.clause.part = 'expand'
  result.clause.reason = `${result.clause.reason.split(': ')[0]}: ${table.name} is created by this script, so the old version never uses it`
  result.undo = { none: `the undo of the CREATE TABLE ${table.name} removes it` }
}

/**
 * One ALTER is applied whole: an expand clause beside a contract clause runs with it in the
 * contract (which any change may), instead of asking the author to split the statement.
 */
function withTheRest(result: RuleResult, contract: RuleResult[], ast: Node): void {
  result.clause.part = 'contract'
  const others = contract.map((other) => `${other.clause.kind} ${other.clause.column ?? other.clause.index ?? other.clause.table}`)
  result.clause.reason = `${result.clause.reason}; it runs in the contract with the rest of this ${String(ast.type).toUpperCase()} (${others.join(', ')})`
}

function combine(statement: SqlStatement, results: RuleResult[]): ClassifiedStatement {
  const clauses = results.map((result) => result.clause)
  const first = clauses[0]!
  const kinds = new Set(clauses.map((clause) => clause.kind))
  const classified: ClassifiedStatement = {
    statement,
    part: first.part,
    kind: kinds.size === 1 ? first.kind : 'alter-table',
    reason: clauses.map((clause) => clause.reason).join('; '),
    clauses,
    touches: unique(clauses.flatMap((clause) => clause.touches)),
    writes: unique(clauses.flatMap((clause) => clause.writes)),
  }
  const redefines = unique(clauses.flatMap((clause) => clause.redefines ?? []))
  if (redefines.length) classified.redefines = redefines
  copyFacts(classified, clauses)
  if (first.part === 'expand') Object.assign(classified, undoOf(results))
  if (results.some((result) => result.catchUp !== undefined)) classified.catchUp = results.some((result) => result.catchUp)
  const warnings = results.flatMap((result) => (result.warning ? [result.warning] : []))
  if (warnings.length) classified.warning = warnings.join('; ')
  return classified
}

/** The executor's facts: the table when all clauses share it, the rest only for a single clause. */
function copyFacts(target: ClassifiedStatement, clauses: ClassifiedClause[]): void {
  const first = clauses[0]!
  if (clauses.some((clause) => clause.table !== first.table)) return
  target.table = first.table
  if (first.database) target.database = first.database
  if (clauses.length !== 1) return
  if (first.column) target.column = first.column
  if (first.index) target.index = first.index
  if (first.newName) target.newName = first.newName
}

/** Reverses an expand statement: whole statements as they are, clauses in one ALTER in reverse order. */
function undoOf(results: RuleResult[]): { undo?: string; undoNote?: string; nothingToUndo?: true } {
  const undos = results.flatMap((result) => (result.undo ? [result.undo] : []))
  const unknown = undos.flatMap((undo) => ('unknown' in undo ? [undo.unknown] : []))
  if (unknown.length) return { undoNote: unknown.join('; ') }
  const statements = undos.flatMap((undo) => ('statement' in undo ? [undo.statement] : []))
  const clauses = undos.flatMap((undo) => ('clause' in undo ? [undo.clause] : [])).reverse()
  const first = results[0]!.clause
  if (clauses.length) statements.push(`ALTER TABLE ${quoteTable({ name: first.table, ...(first.database ? { database: first.database } : {}) })} ${clauses.join(', ')}`)
  if (statements.length) return { undo: statements.join(';\n') }
  const none = undos.flatMap((undo) => ('none' in undo ? [undo.none] : []))
  return { undoNote: none.join('; ') || 'nothing to reverse', ...(none.length === undos.length && undos.length > 0 ? { nothingToUndo: true as const } : {}) }
}

function unique(refs: ObjectRef[]): ObjectRef[] {
  const seen = new Set<string>()
  return refs.filter((ref) => {
    const key = JSON.stringify([ref.table.toLowerCase(), ref.column?.toLowerCase(), ref.index?.toLowerCase(), ref.rows])
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
