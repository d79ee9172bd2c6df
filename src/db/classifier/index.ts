/**
 * The statement classifier of DESIGN.md section 6: which part (expand or contract) each
 * statement of a migration script belongs to, and why. Pure: no database, no files.
 */
export { classifyStatement, ScriptClassifier } from './classify.js'
export { SplitChangesMeaningError, UnclassifiableStatementError, UnparseableStatementError } from './errors.js'
export { KINDS, type Kind } from './kinds.js'
export { lintScript, type LintFinding, type LintReport, type Severity } from './lint.js'
export { classifyScript, findSplitConflicts, type ScriptEntry } from './script.js'
export { splitStatements, type SplitScript } from './split.js'
export type { ClassifiedClause, ClassifiedStatement, ClassifyOptions, ColumnModel, ObjectRef, Part, SchemaModel, ScriptStatement } from './types.js'
