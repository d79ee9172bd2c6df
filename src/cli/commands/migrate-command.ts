import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { lintScript, type LintFinding, type ScriptStatement } from '../../db/classifier/index.js'
import { connect } from '../../db/connection.js'
import { parseScript, scriptFileNames, scriptVersions, undoAdvice } from '../../db/migrations/scripts/migration-script.js'
import { schemaFromDump } from '../../db/classifier/schema-dump.js'
import type { SchemaState } from '../../db/classifier/schema-state.js'
import { compareVersions, parseVersion, type Version, type VersionScheme } from '../../db/migrations/versions/version.js'
import { serviceExecutor, ensureMigrationTables } from '../../db/migrations/service-executor.js'
import { withoutSchemaQualifiers } from '../../db/migrations/scripts/schema-qualifiers.js'
import { tokenizeScript } from '../../db/migrations/scripts/sql-statements.js'
import { loadConfig } from '../../config/load-config.js'
import { HandoverError, InvalidInputError } from '../../errors.js'
import { parseOptions, requireOption, type Command, type Output } from '../command.js'

export const migrateCommand: Command = {
  usage: `handover migrate lint (--dir DIR | --config FILE) [--schema DUMP [--from V]]
handover migrate purge --config FILE

  lint    classifies every statement of every script as expand or contract, with the reason,
          and reports everything that would stop an upgrade; touches no database. Exit 1 on errors.
          --schema DUMP: classify against the schema a dump (or a release's create script)
          describes, carried from script to script in version order; --from V: that dump is
          at version V, so scripts at or below it are skipped
  purge   drops for real the columns and tables contracts renamed to _handover_<name>,
          once older than migrations.softDropRetentionHours`,
  async run(args, output) {
    const [action, ...rest] = args
    if (action === 'lint') return lint(rest, output)
    if (action === 'purge') return purge(rest, output)
    throw new InvalidInputError('handover migrate', 'expected lint or purge (see handover migrate --help)')
  },
}

function lint(args: string[], output: Output): number {
  const values = parseOptions('migrate lint', args, { dir: { type: 'string' }, config: { type: 'string' }, schema: { type: 'string' }, from: { type: 'string' } })
  const config = values.config ? loadConfig(values.config) : undefined
  const dir = values.dir ?? config?.migrations.dir
  if (!dir) throw new InvalidInputError('handover migrate lint', 'give --dir or --config (see handover migrate --help)')
  const scheme = config?.migrations.versions
  const aliases = config?.migrations.schemaAliases ?? []
  const qualifiers = config ? [config.database.schema, ...aliases] : []
  // Two copies advanced alike: lint's findings and the script's undo problems each classify every statement once.
  const dump = values.schema ? readDump(values.schema) : undefined
  const state = dump === undefined ? undefined : schemaFromDump(dump)
  const undoState = dump === undefined ? undefined : schemaFromDump(dump)
  const from = values.from ? parseVersion(values.from, '--from', scheme) : undefined
  let errors = 0
  let warnings = 0
  for (const name of lintOrder(dir, scheme, from)) {
    const file = join(dir, name)
    const text = readFileSync(file, 'utf8')
    const report = lintScript(file, markedStatements(text, aliases, qualifiers), undefined, state)
    state?.nextScript()
    for (const finding of report.findings) output.out(formatFinding(finding))
    const problems = scriptProblems(file, name, text, aliases, config?.database.schema, scheme, undoState)
    undoState?.nextScript()
    for (const problem of problems) output.out(`${problem}  error`)
    errors += report.errors + problems.length
    warnings += report.warnings
  }
  output.out(`${errors} error(s), ${warnings} warning(s)`)
  return errors > 0 ? 1 : 0
}

/**
 * What lintScript cannot see: the file's name and markers, and whether a failed upgrade could
 * roll the script back. The classifier's own errors are already among lintScript's findings.
 */
function scriptProblems(file: string, name: string, text: string, schemaAliases: readonly string[], schemaName: string | undefined, versions?: VersionScheme, state?: SchemaState): string[] {
  try {
    const script = parseScript(file, name, text, { schemaAliases, ...(schemaName ? { schemaName } : {}), ...(versions ? { versions } : {}), ...(state ? { state } : {}) })
    return script.undoProblems.map((problem) => `${problem}: no automatic rollback (${undoAdvice(script)})`)
  } catch (error) {
    if (error instanceof InvalidInputError) return [error.message]
    if (error instanceof HandoverError) return []
    throw error
  }
}

/** The statements of a file with the part their marker gives them, if any. */
function markedStatements(text: string, aliases: readonly string[], qualifiers: readonly string[]): ScriptStatement[] {
  let part: string | undefined
  const statements: ScriptStatement[] = []
  const names = new Set(aliases.map((alias) => alias.toLowerCase()))
  for (const token of tokenizeScript(text)) {
    if (token.kind === 'statement' && names.has(/^\s*USE\s+`?([^`\s]+)`?\s*$/i.exec(token.statement.sql)?.[1]?.toLowerCase() ?? '')) continue
    if (token.kind === 'marker') part = token.marker.name
    else if (part === undefined) statements.push(withoutSchemaQualifiers(token.statement, qualifiers))
    else if (part === 'expand' || part === 'contract') statements.push({ ...withoutSchemaQualifiers(token.statement, qualifiers), marked: part })
  }
  return statements
}

/** Version order, singles before the bundles that end where they do; names that are no version last, in name order. */
function lintOrder(dir: string, scheme: VersionScheme | undefined, from: Version | undefined): string[] {
  const versionOf = (name: string): Version | undefined => {
    try {
      return scriptVersions(name, name, scheme).version
    } catch {
      return undefined
    }
  }
  const names = scriptFileNames(dir).sort()
  const ordered = names.filter((name) => versionOf(name)).sort((a, b) => compareVersions(versionOf(a)!, versionOf(b)!))
  const kept = from ? ordered.filter((name) => compareVersions(versionOf(name)!, from) > 0) : ordered
  return [...kept, ...names.filter((name) => !versionOf(name))]
}

function readDump(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new InvalidInputError(file, `cannot read the schema dump (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

function formatFinding(finding: LintFinding): string {
  const where = `${finding.file}:${finding.line}`
  const what = finding.severity === 'info' ? `${finding.part} ${finding.kind}` : `${finding.severity}${finding.code ? ` ${finding.code}` : ''}`
  return `${where}  ${what}: ${finding.reason}`
}

async function purge(args: string[], output: Output): Promise<number> {
  const values = parseOptions('migrate purge', args, { config: { type: 'string' } })
  const config = loadConfig(requireOption('migrate purge', 'config', values.config))
  const db = await connect(config.database)
  try {
    await ensureMigrationTables(db, config.database.journalSchema)
    const purged = await serviceExecutor(db, config.database, config.service.name, 'purge').purgeSoftDrops(config.migrations.softDropRetentionHours)
    for (const drop of purged) output.out(`dropped ${drop.column ? `${drop.table}.${drop.softName}` : drop.softName} (from ${drop.script})`)
    output.out(`${purged.length} soft-dropped object(s) older than ${config.migrations.softDropRetentionHours}h dropped`)
  } finally {
    await db.end()
  }
  return 0
}
