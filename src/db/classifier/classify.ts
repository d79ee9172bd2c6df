import type { SqlStatement } from '../migrations/sql-statements.js'
import { nodes, type Node } from './ast.js'
import { MixedAlterError, UnclassifiableStatementError } from './errors.js'
import { parseStatement, sqlOf } from './parse.js'
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
    this.state = new SchemaState(options.schema)
  }

  /** Throws UnparseableStatementError, UnclassifiableStatementError or MixedAlterError. */
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
    for (const result of results) result.effect?.(this.state)
    const expand = results.filter((result) => result.clause.part === 'expand')
    const contract = results.filter((result) => result.clause.part === 'contract')
    if (expand.length && contract.length) {
      throw new MixedAlterError(this.file, statement.line, expand.map(label), contract.map(label), splitSuggestion(parsed.ast))
    }
    return combine(statement, results)
  }
}

function label(result: RuleResult): string {
  const { kind, column, index, table } = result.clause
  return `${kind} ${column ?? index ?? table}`
}

/** One ALTER TABLE per clause, each with the ALGORITHM/LOCK options of the original. */
function splitSuggestion(ast: Node): string[] {
  if (ast.type !== 'alter') return []
  const clauses = nodes(ast.expr)
  const options = clauses.filter((clause) => clause.resource === 'algorithm' || clause.resource === 'lock')
  const changes = clauses.filter((clause) => !options.includes(clause))
  const statements = changes.map((clause) => sqlOf({ ...ast, expr: [clause, ...options] }))
  return statements.every((sql) => sql !== undefined) ? (statements as string[]) : []
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
function undoOf(results: RuleResult[]): { undo?: string; undoNote?: string } {
  const undos = results.flatMap((result) => (result.undo ? [result.undo] : []))
  const unknown = undos.flatMap((undo) => ('unknown' in undo ? [undo.unknown] : []))
  if (unknown.length) return { undoNote: unknown.join('; ') }
  const statements = undos.flatMap((undo) => ('statement' in undo ? [undo.statement] : []))
  const clauses = undos.flatMap((undo) => ('clause' in undo ? [undo.clause] : [])).reverse()
  const first = results[0]!.clause
  if (clauses.length) statements.push(`ALTER TABLE ${quoteTable({ name: first.table, ...(first.database ? { database: first.database } : {}) })} ${clauses.join(', ')}`)
  if (statements.length) return { undo: statements.join(';\n') }
  const none = undos.flatMap((undo) => ('none' in undo ? [undo.none] : []))
  return { undoNote: none.join('; ') || 'nothing to reverse' }
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
