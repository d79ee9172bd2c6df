import { classifyScript, splitStatements, type ClassifiedStatement } from '../../classifier/index.js'
import type { ScriptOptions } from './migration-script.js'
import { tokenizeScript, type SqlStatement } from './sql-statements.js'
import { updateSignature } from '../../capture/update-signature.js'
import { restoredBy } from '../undo/restore-point.js'

/**
 * The parts of a migration script. `expand` is compatible with the old program and runs
 * while it serves; `contract` runs while nothing writes; the `-undo` parts reverse them
 * before the point of no return.
 */
export const SCRIPT_PARTS = ['expand', 'contract', 'expand-undo', 'contract-undo'] as const
export type ScriptPart = (typeof SCRIPT_PARTS)[number]

/** A statement of a part, with its classification when the parser could read it. */
export interface PartStatement extends SqlStatement {
  classified?: ClassifiedStatement
  /**
   * A contract statement that repeats the expand's backfill at this index for the rows the
   * old version wrote meanwhile: the capture of that backfill makes it unnecessary.
   */
  catchUpOf?: number
}

export type ScriptParts = Record<ScriptPart, PartStatement[]>

export interface DerivedParts {
  parts: ScriptParts
  /** Why this script could not be rolled back automatically; empty when it can. */
  undoProblems: string[]
}

/** Contract changes the executor makes reversible by itself (soft contract). */
const SOFT_KINDS = new Set(['drop-column', 'drop-table'])
/** Expand changes that need no reversing: the old version works with them in place. */
const NOTHING_TO_UNDO = new Set(['backfill', 'restate-column', 'widen-column', 'drop-not-null'])

/**
 * Parts for a script without markers: the classifier splits it. Backfills run again first
 * in the contract, for the rows the old version wrote after the expand; the expand undo
 * is each statement's derived inverse, newest first.
 */
export function deriveParts(file: string, statements: readonly SqlStatement[], options: ScriptOptions = {}): DerivedParts {
  const split = splitStatements(file, statements, options)
  const catchUps = split.expand.filter((classified) => classified.catchUp)
  const undoProblems: string[] = []
  for (const classified of split.expand) {
    if (!classified.undo && !undoneElsewhere(classified)) {
      undoProblems.push(`${file}:${classified.statement.line} (${classified.kind}): no undo can be derived (${classified.undoNote ?? 'unknown'})`)
    }
  }
  // Expand changes that run in the contract (after a contract change they depend on) keep their derived undo.
  const deferred = split.contract.filter((classified) => classified.deferredBy !== undefined)
  for (const classified of split.contract) {
    if (SOFT_KINDS.has(classified.kind) || restoredBy(classified) !== undefined || (classified.deferredBy !== undefined && (classified.undo || undoneElsewhere(classified)))) continue
    undoProblems.push(
      `${file}:${classified.statement.line} (${classified.kind}): this contract change has no undo handover can derive (${classified.reason}); mark the script's parts and give a \`-- handover:contract-undo\` that reverses it`,
    )
  }
  return {
    parts: {
      expand: split.expand.map(withClass),
      contract: [...catchUps.map((classified) => ({ ...withClass(classified), catchUpOf: split.expand.indexOf(classified) })), ...split.contract.map(withClass)],
      // Newest statement first; each statement's own undo keeps its order.
      'expand-undo': [...split.expand].reverse().flatMap(undoStatements),
      'contract-undo': [...deferred].reverse().flatMap(undoStatements),
    },
    undoProblems,
  }
}

/** Kinds that need no undo of their own: kept harmlessly, or removed with what they depend on. */
function undoneElsewhere(classified: ClassifiedStatement): boolean {
  return NOTHING_TO_UNDO.has(classified.kind) || classified.nothingToUndo === true
}

/** Classifies what markers already placed, for soft contract and lint; unreadable statements stay as marked. */
export function classifyMarked(file: string, parts: ScriptParts, options: ScriptOptions = {}): ScriptParts {
  const classifyPart = (part: 'expand' | 'contract'): PartStatement[] =>
    classifyScript(file, parts[part].map((statement) => ({ sql: statement.sql, line: statement.line, marked: part })), options.schema, options.state).map((entry, i) =>
      'classified' in entry && entry.classified.kind !== 'marked' ? { ...parts[part][i]!, classified: entry.classified } : parts[part][i]!,
    )
  const expand = classifyPart('expand')
  return { ...parts, expand, contract: linkCatchUps(expand, classifyPart('contract')) }
}

/**
 * A marked script's contract often repeats an expand backfill (same table, same SET) to
 * catch up the old version's writes: such a statement is linked to its backfill, so the
 * capture can stand in for it instead of a scan of the whole table while requests are held.
 */
function linkCatchUps(expand: PartStatement[], contract: PartStatement[]): PartStatement[] {
  const backfills = new Map<string, number>()
  expand.forEach((statement, index) => {
    const signature = statement.classified?.kind === 'backfill' ? updateSignature(statement.sql) : undefined
    if (signature && !backfills.has(signature)) backfills.set(signature, index)
  })
  return contract.map((statement) => {
    const signature = updateSignature(statement.sql)
    const index = signature === undefined ? undefined : backfills.get(signature)
    return index === undefined ? statement : { ...statement, catchUpOf: index }
  })
}

function withClass(classified: ClassifiedStatement): PartStatement {
  return { ...classified.statement, classified }
}

function undoStatements(classified: ClassifiedStatement): PartStatement[] {
  if (!classified.undo) return []
  return tokenizeScript(classified.undo)
    .flatMap((token) => (token.kind === 'statement' ? [{ sql: token.statement.sql, line: classified.statement.line }] : []))
}
