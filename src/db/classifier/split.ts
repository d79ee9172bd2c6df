import type { SqlStatement } from '../migrations/scripts/sql-statements.js'
import { classifyScript, deferConflicts, effectivePart, findSplitConflicts } from './script.js'
import type { SchemaState } from './schema-state.js'
import type { ClassifiedStatement, SchemaModel, ScriptStatement } from './types.js'

export interface SplitOptions {
  schema?: SchemaModel
  state?: SchemaState
  /** Contract statements of earlier scripts of the chain, with their files. */
  priorContract?: readonly { file: string; statement: ClassifiedStatement }[]
}

export interface SplitScript {
  expand: ClassifiedStatement[]
  contract: ClassifiedStatement[]
}

/**
 * Splits a script into its expand and contract parts, each in file order. Throws the first
 * problem (in file order) as a typed error: UNPARSEABLE_STATEMENT, UNCLASSIFIABLE_STATEMENT,
 * then SPLIT_CHANGES_MEANING (a marked expand statement after a contract one it depends on); lintScript reports them all.
 */
export function splitStatements(file: string, statements: readonly (SqlStatement | ScriptStatement)[], schemaOrOptions?: SchemaModel | SplitOptions): SplitScript {
  const options: SplitOptions = schemaOrOptions && 'tables' in schemaOrOptions ? { schema: schemaOrOptions as SchemaModel } : ((schemaOrOptions as SplitOptions | undefined) ?? {})
  const entries = classifyScript(file, statements, options.schema, options.state)
  const classified: ClassifiedStatement[] = []
  for (const entry of entries) {
    if ('error' in entry) throw entry.error
    classified.push(entry.classified)
  }
  deferConflicts(file, classified, options.priorContract)
  const conflict = findSplitConflicts(file, classified)[0]
  if (conflict) throw conflict
  return {
    expand: classified.filter((statement) => effectivePart(statement) === 'expand'),
    contract: classified.filter((statement) => effectivePart(statement) === 'contract'),
  }
}
