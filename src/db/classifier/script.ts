import { HandoverError } from '../../errors.js'
import { ScriptClassifier } from './classify.js'
import { SplitChangesMeaningError } from './errors.js'
import type { SchemaState } from './schema-state.js'
import type { ClassifiedStatement, ObjectRef, SchemaModel, ScriptStatement } from './types.js'

/** One statement of a script: its class, or why it has none. */
export type ScriptEntry = { statement: ScriptStatement; classified: ClassifiedStatement } | { statement: ScriptStatement; error: HandoverError }

/**
 * Classifies every statement of a script in file order, collecting errors instead of
 * stopping. A marker decides the part of its statement: one the parser cannot read is
 * taken as the marker says, one it can read keeps its classification for the checks.
 */
export function classifyScript(file: string, statements: readonly ScriptStatement[], schema?: SchemaModel, state?: SchemaState): ScriptEntry[] {
  const classifier = new ScriptClassifier({ file, ...(schema ? { schema } : {}), ...(state ? { state } : {}) })
  return statements.map((statement) => {
    try {
      const classified = classifier.classify(statement)
      if (statement.marked) classified.marked = statement.marked
      return { statement, classified }
    } catch (error) {
      if (!(error instanceof HandoverError)) throw error
      if (!statement.marked) return { statement, error }
      return { statement, classified: markedOnly(statement, error) }
    }
  })
}

function markedOnly(statement: ScriptStatement, error: HandoverError): ClassifiedStatement {
  const { marked, ...sql } = statement
  return {
    statement: sql,
    part: marked!,
    marked: marked!,
    kind: 'marked',
    reason: `explicitly marked ${marked!}; the classifier cannot check it (${error.message})`,
    clauses: [],
    touches: [],
    writes: [],
  }
}

/** The part a statement runs in: its marker's, else the classifier's (contract when deferred). */
export function effectivePart(classified: ClassifiedStatement): 'expand' | 'contract' {
  return classified.marked ?? (classified.deferredBy !== undefined ? 'contract' : classified.part)
}

/**
 * Every expand statement runs before every contract one, so an unmarked expand statement
 * that uses what an earlier contract statement changes (DROP INDEX i then CREATE INDEX i; a
 * contract statement of an earlier script of the chain) runs in the contract instead, after
 * it: the contract may run anything, and the order of the script is kept. Statements that
 * depend on a deferred one follow it there.
 */
export function deferConflicts(file: string, classified: readonly ClassifiedStatement[], prior: readonly { file: string; statement: ClassifiedStatement }[] = []): void {
  const contract = [...prior]
  for (const later of classified) {
    if (effectivePart(later) === 'expand' && !later.marked) {
      const earlier = contract.find(({ statement }) => dependency(later, statement))
      if (earlier) {
        later.deferredBy = earlier.statement.statement.line
        if (prior.includes(earlier)) later.deferredIn = earlier.file
        later.reason = `${later.reason}; runs in the contract, after the contract statement at ${earlier.file}:${earlier.statement.statement.line} it depends on`
      }
    }
    if (effectivePart(later) === 'contract') contract.push({ file, statement: later })
  }
}

/**
 * Running every expand statement before every contract one changes the script's meaning
 * when an expand statement comes after a contract statement and one of them uses what the
 * other changes (DROP COLUMN x then ADD COLUMN x; RENAME TABLE a TO b then an index on b).
 */
export function findSplitConflicts(file: string, classified: readonly ClassifiedStatement[]): SplitChangesMeaningError[] {
  const conflicts: SplitChangesMeaningError[] = []
  classified.forEach((later, j) => {
    if (effectivePart(later) !== 'expand') return
    for (const earlier of classified.slice(0, j)) {
      if (effectivePart(earlier) !== 'contract') continue
      const shared = dependency(later, earlier)
      if (shared) conflicts.push(new SplitChangesMeaningError(file, later.statement.line, earlier.statement.line, shared))
    }
  })
  return conflicts
}

/** What a later statement shares with an earlier one that makes their order matter, if anything. */
function dependency(later: ClassifiedStatement, earlier: ClassifiedStatement): string | undefined {
  return (
    sharedObject(later.touches, earlier.writes, 'second') ??
    sharedObject(later.writes, earlier.touches, 'first') ??
    sharedObject(later.redefines ?? [], earlier.redefines ?? [], 'first')
  )
}

/** The object both use, named as the side that changes it (`first` or `second` list) has it. */
function sharedObject(a: readonly ObjectRef[], b: readonly ObjectRef[], changer: 'first' | 'second'): string | undefined {
  for (const x of a) for (const y of b) if (overlaps(x, y)) return describe(changer === 'first' ? x : y)
  return undefined
}

/** Same table, and one of them is the whole table or both name the same column, index or rows. */
export function overlaps(a: ObjectRef, b: ObjectRef): boolean {
  if (a.table.toLowerCase() !== b.table.toLowerCase()) return false
  const whole = (ref: ObjectRef): boolean => !ref.column && !ref.index && !ref.rows
  if (whole(a) || whole(b)) return true
  if (a.rows || b.rows) return Boolean(a.rows && b.rows)
  if (a.column && b.column) return a.column.toLowerCase() === b.column.toLowerCase()
  if (a.index && b.index) return a.index.toLowerCase() === b.index.toLowerCase()
  return false
}

function describe(ref: ObjectRef): string {
  if (ref.column) return `column ${ref.table}.${ref.column}`
  if (ref.index) return `index ${ref.index} of ${ref.table}`
  if (ref.rows) return `the rows of ${ref.table}`
  return `table ${ref.table}`
}
