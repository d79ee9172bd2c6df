import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { HandoverError, InvalidInputError } from '../../../errors.js'
import { lintScript, type ClassifiedStatement, type SchemaModel } from '../../classifier/index.js'
import { SchemaState } from '../../classifier/schema-state.js'
import { planChain, type PlannedScript } from './migration-planner.js'
import { parseScript, scriptFileNames, scriptVersions, type MigrationScript } from '../scripts/migration-script.js'
import { tokenizeScript } from '../scripts/sql-statements.js'
import { compareVersions, formatVersion, type Version, type VersionScheme } from './version.js'

/** Every problem of every script on the chain, found at once: the author fixes them in one go. */
export class MigrationChainRefusedError extends HandoverError {
  readonly code = 'MIGRATIONS_REFUSED'

  constructor(readonly problems: readonly string[]) {
    super(`the migration scripts on the chain cannot run (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`)
  }
}

export interface ChainOptions {
  /** The live schema at the chain's start. */
  schema?: SchemaModel
  /** The chain's start as a state already built (from a dump); it is changed as the chain is read. Wins over `schema`. */
  start?: SchemaState
  /** database.schema, whose name a script may qualify tables with. */
  schemaName?: string
  schemaAliases?: readonly string[]
  versions?: VersionScheme
  /** Releases that changed nothing in the schema and have no script: each is a step from the release below it. */
  releasesWithoutScripts?: readonly Version[]
}

/** A script's name and versions, read without its SQL: enough to plan. */
interface CatalogEntry {
  file: string
  name: string
  version: Version
  bundleFrom?: Version
}

/**
 * The chain from `current` to `target`, each script classified against the schema the
 * chain has reached at its first statement (the live one changed by every script before
 * it), with each later script's expand checked against the contracts before it. Scripts
 * off the chain are not read; every problem of every script on it is reported together.
 */
export function loadChain(dir: string, current: Version, target: Version, options: ChainOptions = {}): PlannedScript[] {
  const problems: string[] = []
  const errors: HandoverError[] = []
  const entries = catalog(dir, options.versions, problems)
  const steps = planChain([...entries, ...noScriptReleases(options.releasesWithoutScripts ?? [], entries)], current, target)
  if (problems.length) throw new MigrationChainRefusedError(problems)
  const state = options.start ?? new SchemaState(options.schema)
  const prior: { file: string; statement: ClassifiedStatement }[] = []
  const loaded = steps.map((step) => {
    if (!step.script.file) return { ...step, script: emptyScript(step.script) }
    const text = readFileSync(step.script.file, 'utf8')
    try {
      const script = parseScript(step.script.file, step.script.name, text, { state, priorContract: [...prior], ...pick(options) })
      for (const statement of script.parts.contract) if (statement.classified) prior.push({ file: script.file, statement: statement.classified })
      state.nextScript()
      return { ...step, script }
    } catch (error) {
      if (!(error instanceof HandoverError)) throw error
      errors.push(error)
      problems.push(...allFindings(step.script.file, text, options.schema, error))
      state.nextScript()
      return undefined
    }
  })
  if (problems.length) throw refusal(problems, errors)
  return loaded as PlannedScript[]
}

/**
 * One script's bad input (a file name, a marker, a USE) is thrown as it is, so it keeps its
 * code and exit status; anything more is one refusal naming every problem.
 */
function refusal(problems: string[], errors: HandoverError[]): HandoverError {
  if (errors.length === 1 && (problems.length === 1 || errors[0] instanceof InvalidInputError)) return errors[0]!
  return new MigrationChainRefusedError(problems)
}

function pick(options: ChainOptions): { schemaName?: string; schemaAliases?: readonly string[]; versions?: VersionScheme } {
  return { ...(options.schemaName ? { schemaName: options.schemaName } : {}), ...(options.schemaAliases ? { schemaAliases: options.schemaAliases } : {}), ...(options.versions ? { versions: options.versions } : {}) }
}

/** Names and versions of every script; a name that is no version is a problem only if it could be on a chain, which is every one. */
function catalog(dir: string, scheme: VersionScheme | undefined, problems: string[]): (CatalogEntry & MigrationScript)[] {
  const entries: (CatalogEntry & MigrationScript)[] = []
  for (const name of scriptFileNames(dir)) {
    const file = join(dir, name)
    try {
      const versions = scriptVersions(file, name, scheme)
      const twin = entries.find((entry) => compareVersions(entry.version, versions.version) === 0 && (entry.bundleFrom === undefined) === (versions.bundleFrom === undefined) && compareVersions(entry.bundleFrom ?? [], versions.bundleFrom ?? []) === 0)
      if (twin) problems.push(`${file}: covers the same versions as ${twin.name}`)
      entries.push({ file, name, ...versions, checksum: '', parts: emptyParts(), marked: true, undoProblems: [] })
    } catch (error) {
      if (!(error instanceof HandoverError)) throw error
      problems.push(error.message)
    }
  }
  return entries
}

function noScriptReleases(releases: readonly Version[], entries: readonly CatalogEntry[]): MigrationScript[] {
  return releases
    .filter((release) => !entries.some((entry) => compareVersions(entry.version, release) === 0))
    .map((release) => ({ file: '', name: `v${formatVersion(release)} (no schema change)`, version: release, checksum: '', parts: emptyParts(), marked: true, undoProblems: [] }))
}

function emptyScript(script: MigrationScript): MigrationScript {
  return { ...script, parts: emptyParts() }
}

function emptyParts(): MigrationScript['parts'] {
  return { expand: [], contract: [], 'expand-undo': [], 'contract-undo': [] }
}

/** Every error lint finds in a script (against the live schema), or the one the parser threw. */
function allFindings(file: string, text: string, schema: SchemaModel | undefined, thrown: HandoverError): string[] {
  const statements = tokenizeScript(text).flatMap((token) => (token.kind === 'statement' ? [token.statement] : []))
  let found: string[] = []
  try {
    found = lintScript(file, statements, schema).findings.filter((finding) => finding.severity === 'error').map((finding) => finding.reason)
  } catch {
    found = []
  }
  return found.includes(thrown.message) ? found : [thrown.message, ...found.filter((message) => message !== thrown.message)]
}
