import type { SqlStatement } from '../migrations/sql-statements.js'
import { classifyScript, effectivePart, findSplitConflicts } from './script.js'
import type { ClassifiedStatement, SchemaModel, ScriptStatement } from './types.js'

export interface SplitScript {
  expand: ClassifiedStatement[]
  contract: ClassifiedStatement[]
}

/**
 * Splits a script into its expand and contract parts, each in file order. Throws the first
 * problem (in file order) as a typed error: UNPARSEABLE_STATEMENT, UNCLASSIFIABLE_STATEMENT,
 * MIXED_ALTER_STATEMENT, then SPLIT_CHANGES_MEANING; lintScript reports them all.
 */
export function splitStatements(file: string, statements: readonly (SqlStatement | ScriptStatement)[], schema?: SchemaModel): SplitScript {
  const entries = classifyScript(file, statements, schema)
  const classified: ClassifiedStatement[] = []
  for (const entry of entries) {
    if ('error' in entry) throw entry.error
    classified.push(entry.classified)
  }
  const conflict = findSplitConflicts(file, classified)[0]
  if (conflict) throw conflict
  return {
    expand: classified.filter((statement) => effectivePart(statement) === 'expand'),
    contract: classified.filter((statement) => effectivePart(statement) === 'contract'),
  }
}
