import { nodes, tableNames, type Node } from '../ast.js'
import { addColumn, dropColumn, renameColumn } from './column-rules.js'
import { modifyColumn } from './column-modify-rules.js'
import { dml } from './dml-rules.js'
import { addConstraint, addIndex, createIndex, dropIndex, dropIndexStatement } from './index-rules.js'
import { Refusal, type ClauseRule, type RuleContext, type RuleResult, type StatementRule } from './rule.js'
import { alterRenameTable, createTable, dropTable, renameTable, truncateTable } from './table-rules.js'
import { tableOptions } from './table-option-rules.js'
import { readOnly } from './read-only-rules.js'
import { replacedIndexes } from './replace-index.js'

/** Every clause of ALTER TABLE the classifier knows; anything else is refused. */
const CLAUSE_RULES: ClauseRule[] = [addColumn, dropColumn, renameColumn, modifyColumn, addIndex, addConstraint, dropIndex, alterRenameTable, tableOptions]

/** ALGORITHM= and LOCK= say how the server runs the ALTER, not what it changes. */
const OPTIONS = new Set(['algorithm', 'lock'])

const alterTable: StatementRule = {
  matches: (ast) => ast.type === 'alter' && tableNames(ast.table).length > 0,
  classify(ast, context) {
    const table = tableNames(ast.table)[0]!
    const clauses = nodes(ast.expr).filter((clause) => !OPTIONS.has(String(clause.resource)))
    if (clauses.length === 0) throw new Refusal(`ALTER TABLE ${table.name} changes nothing but how it runs`)
    const results = clauses.map((clause) => {
      const rule = CLAUSE_RULES.find((candidate) => candidate.matches(clause))
      if (!rule) throw new Refusal(`ALTER TABLE ${table.name} ${describeClause(clause)}: no rule says whether the old version tolerates it`)
      return rule.classify(clause, table, context)
    })
    return replacedIndexes(table, results, context)
  },
}

/** Every statement the classifier knows, in the order they are tried. */
export const STATEMENT_RULES: StatementRule[] = [createTable, dropTable, renameTable, truncateTable, createIndex, dropIndexStatement, alterTable, dml, readOnly]

export function classifyAst(ast: Node, context: RuleContext): RuleResult[] {
  const rule = STATEMENT_RULES.find((candidate) => candidate.matches(ast))
  if (!rule) throw new Refusal(`${describeStatement(ast)} is neither a table, column or index change nor DML`)
  return rule.classify(ast, context)
}

function describeClause(clause: Node): string {
  const words = [clause.action, clause.keyword ?? clause.resource].filter((word) => typeof word === 'string')
  return words.join(' ').toUpperCase() || 'clause'
}

/** `CREATE TRIGGER`, `DROP VIEW`, `GRANT`: the keyword only where it names the object. */
function describeStatement(ast: Node): string {
  const type = typeof ast.type === 'string' ? ast.type.toUpperCase() : 'the statement'
  const objectNamed = ['CREATE', 'DROP', 'ALTER'].includes(type) && typeof ast.keyword === 'string'
  return objectNamed ? `${type} ${String(ast.keyword).toUpperCase()}` : type
}
