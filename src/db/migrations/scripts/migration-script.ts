import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { InvalidInputError } from '../../../errors.js'
import type { ClassifiedStatement, SchemaModel } from '../../classifier/index.js'
import type { SchemaState } from '../../classifier/schema-state.js'
import { classifyMarked, deriveParts, SCRIPT_PARTS, type ScriptPart, type ScriptParts } from './script-parts.js'
import { refuseOtherSchemas, withoutSchemaQualifiers } from './schema-qualifiers.js'
import { tokenizeScript, type SqlToken } from './sql-statements.js'
import { compareVersions, DEFAULT_VERSION_SCHEME, parseVersion, type Version, type VersionScheme } from '../versions/version.js'

/** How a script is read beyond its own text. */
export interface ScriptOptions {
  /** The live schema: the classifier tells widening from narrowing with it. */
  schema?: SchemaModel
  /** The schema the chain has reached before this script (taken instead of `schema`, and carried on). */
  state?: SchemaState
  /** Contract statements of earlier scripts of the chain: they run after this script's expand. */
  priorContract?: readonly { file: string; statement: ClassifiedStatement }[]
  /** database.schema: `<name>.table` is the table of the schema the statement runs in (the rehearsal's copy). */
  schemaName?: string
  /** Names the vendor's scripts give database.schema: `USE <name>` is then no statement at all, and `<name>.table` as above. */
  schemaAliases?: readonly string[]
  versions?: VersionScheme
}

export { SCRIPT_PARTS, type ScriptPart } from './script-parts.js'

export interface MigrationScript {
  file: string
  name: string
  /** The version the script brings the schema to. */
  version: Version
  /** For a bundle (v2.8.1-v3.2.1.sql): the version it starts from. A single script starts from the previous single. */
  bundleFrom?: Version
  checksum: string
  parts: ScriptParts
  /** Marked by `-- handover:` comments, or split by the classifier. */
  marked: boolean
  /** Why a failed upgrade could not roll this script back by itself; empty when it can. */
  undoProblems: string[]
}

// A qualifier never starts with v and a digit, which begins the second version of a bundle.
const VERSION = '(\\d+(?:\\.\\d+)*(?:[-.]?(?!v\\d)[A-Za-z]+[-.]?\\d*)?)'
const SCRIPT_NAME_PATTERN = new RegExp(`^v${VERSION}(?:-v${VERSION})?\\.sql$`)
const NAMING = 'a migration script is named v<version>.sql (v5.9.1.sql) or v<from>-v<to>.sql for a bundle (v2.8.1-v3.2.1.sql)'

/**
 * Reads one script. With the live schema's model the classifier tells widening from
 * narrowing; without it, a MODIFY counts as contract.
 */
export function parseScript(file: string, name: string, text: string, schemaOrOptions?: SchemaModel | ScriptOptions): MigrationScript {
  const options: ScriptOptions = schemaOrOptions && 'tables' in schemaOrOptions ? { schema: schemaOrOptions as SchemaModel } : ((schemaOrOptions as ScriptOptions | undefined) ?? {})
  const { version, bundleFrom } = scriptVersions(file, name, options.versions)
  const qualifiers = [...(options.schemaName ? [options.schemaName] : []), ...(options.schemaAliases ?? [])]
  const tokens = withoutAliasSwitch(tokenizeScript(text), options.schemaAliases ?? []).map((token) => (token.kind === 'statement' ? { ...token, statement: withoutSchemaQualifiers(token.statement, qualifiers) } : token))
  refuseSchemaSwitch(file, tokens)
  for (const token of tokens) if (token.kind === 'statement') refuseOtherSchemas(file, token.statement)
  const checksum = sha256(text)
  const base = { file, name, checksum, version, ...(bundleFrom ? { bundleFrom } : {}) }
  if (!tokens.some((token) => token.kind === 'marker')) {
    const statements = tokens.flatMap((token) => (token.kind === 'statement' ? [token.statement] : []))
    return { ...base, marked: false, ...deriveParts(file, statements, options) }
  }
  const parts = classifyMarked(file, markedParts(file, tokens), options)
  return { ...base, marked: true, parts, undoProblems: missingUndoParts(file, parts) }
}

/** The versions a script's name gives: its own, and for a bundle the one it starts from. */
export function scriptVersions(file: string, name: string, scheme: VersionScheme = DEFAULT_VERSION_SCHEME): { version: Version; bundleFrom?: Version } {
  const match = SCRIPT_NAME_PATTERN.exec(name)
  if (!match) throw new InvalidInputError(file, NAMING)
  const first = parseVersion(match[1]!, file, scheme)
  const second = match[2] === undefined ? undefined : parseVersion(match[2], file, scheme)
  if (second && compareVersions(first, second) >= 0) throw new InvalidInputError(file, `a bundle must go up: ${match[1]} is not below ${match[2]}`)
  return second ? { version: second, bundleFrom: first } : { version: first }
}

/** `USE <alias>` names database.schema by the vendor's name for it: the statement changes nothing here. */
function withoutAliasSwitch(tokens: SqlToken[], aliases: readonly string[]): SqlToken[] {
  if (aliases.length === 0) return tokens
  const names = new Set(aliases.map((alias) => alias.toLowerCase()))
  return tokens.filter((token) => {
    const target = token.kind === 'statement' ? /^\s*USE\s+`?([^`\s;]+)`?\s*$/i.exec(token.statement.sql)?.[1] : undefined
    return target === undefined || !names.has(target.toLowerCase())
  })
}

/**
 * `USE x` would make every later statement run in another schema: the real run's in the
 * live schema instead of database.schema, the rehearsal's in the live schema instead of its
 * copy (where `plan` would then change real tables).
 */
function refuseSchemaSwitch(file: string, tokens: readonly SqlToken[]): void {
  for (const token of tokens) {
    if (token.kind === 'statement' && /^\s*USE\b/i.test(token.statement.sql)) {
      throw new InvalidInputError(`${file}:${token.statement.line}`, 'USE switches the schema the statements after it run in; handover runs every statement in database.schema (and rehearses them in a copy): remove the USE line')
    }
  }
}

/** What to do about a script's undoProblems. */
export function undoAdvice(script: MigrationScript): string {
  return script.marked ? 'give each expand or contract part its -undo part' : 'mark its parts with -- handover:expand/contract and give explicit -undo parts'
}

/** A marked script is rolled back by its own -undo parts only: each non-empty expand or contract part needs one. */
function missingUndoParts(file: string, parts: ScriptParts): string[] {
  const problems: string[] = []
  for (const part of ['expand', 'contract'] as const) {
    if (parts[part].length > 0 && parts[`${part}-undo`].length === 0) problems.push(`${file}: ${part} statements but no \`-- handover:${part}-undo\` part`)
  }
  return problems
}

function markedParts(file: string, tokens: SqlToken[]): ScriptParts {
  const parts: ScriptParts = { expand: [], contract: [], 'expand-undo': [], 'contract-undo': [] }
  let part: ScriptPart | undefined
  for (const token of tokens) {
    if (token.kind === 'marker') {
      if (!(SCRIPT_PARTS as readonly string[]).includes(token.marker.name)) {
        throw new InvalidInputError(`${file}:${token.marker.line}`, `unknown marker handover:${token.marker.name} (expected one of: ${SCRIPT_PARTS.join(', ')})`)
      }
      part = token.marker.name as ScriptPart
      continue
    }
    if (!part) {
      throw new InvalidInputError(`${file}:${token.statement.line}`, 'statement before the first part marker; in a marked script every statement is in a part (or remove all markers and let the classifier split it)')
    }
    parts[part].push(token.statement)
  }
  return parts
}

/** The names of the .sql files in a migrations directory, in directory order. */
export function scriptFileNames(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => name.endsWith('.sql'))
  } catch (error) {
    throw new InvalidInputError(dir, `cannot read the migrations directory (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

/** Every script in a directory, ordered by version; other files are ignored. */
export function readScripts(dir: string, schema?: SchemaModel): MigrationScript[] {
  const scripts = scriptFileNames(dir).map((name) => {
    const file = join(dir, name)
    return parseScript(file, name, readFileSync(file, 'utf8'), schema)
  })
  scripts.sort((a, b) => compareVersions(a.version, b.version) || compareVersions(a.bundleFrom ?? [], b.bundleFrom ?? []))
  for (let i = 1; i < scripts.length; i++) {
    const [previous, script] = [scripts[i - 1]!, scripts[i]!]
    const sameKind = (previous.bundleFrom === undefined) === (script.bundleFrom === undefined)
    const sameStart = compareVersions(previous.bundleFrom ?? [], script.bundleFrom ?? []) === 0
    if (sameKind && sameStart && compareVersions(previous.version, script.version) === 0) {
      throw new InvalidInputError(script.file, `covers the same versions as ${previous.name}`)
    }
  }
  return scripts
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
