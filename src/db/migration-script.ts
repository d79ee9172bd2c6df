import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { InvalidInputError } from '../errors.js'
import { tokenizeScript, type SqlStatement } from './sql-statements.js'
import { compareVersions, parseVersion, type Version } from './version.js'

/**
 * The parts of a migration script. `expand` is compatible with the old program and runs
 * while it serves; `contract` runs while nothing writes; the `-undo` parts reverse them
 * before the point of no return.
 */
export const SCRIPT_PARTS = ['expand', 'contract', 'expand-undo', 'contract-undo'] as const
export type ScriptPart = (typeof SCRIPT_PARTS)[number]

export interface MigrationScript {
  file: string
  name: string
  version: Version
  checksum: string
  parts: Record<ScriptPart, SqlStatement[]>
}

const SCRIPT_NAME_PATTERN = /^v(\d+(?:\.\d+)*)\.sql$/

export function parseScript(file: string, name: string, text: string): MigrationScript {
  const match = SCRIPT_NAME_PATTERN.exec(name)
  if (!match) throw new InvalidInputError(file, 'a migration script is named v<version>.sql, e.g. v2.sql or v5.9.1.sql')
  const parts: Record<ScriptPart, SqlStatement[]> = { expand: [], contract: [], 'expand-undo': [], 'contract-undo': [] }
  let part: ScriptPart | undefined
  for (const token of tokenizeScript(text)) {
    if (token.kind === 'marker') {
      if (!(SCRIPT_PARTS as readonly string[]).includes(token.marker.name)) {
        throw new InvalidInputError(`${file}:${token.marker.line}`, `unknown marker handover:${token.marker.name} (expected one of: ${SCRIPT_PARTS.join(', ')})`)
      }
      part = token.marker.name as ScriptPart
      continue
    }
    if (!part) {
      throw new InvalidInputError(`${file}:${token.statement.line}`, 'statement before any part marker; start the part with `-- handover:expand` or `-- handover:contract`')
    }
    parts[part].push(token.statement)
  }
  return { file, name, version: parseVersion(match[1]!, file), checksum: sha256(text), parts }
}

/** Every script in a directory, ordered by version; other files are ignored. */
export function readScripts(dir: string): MigrationScript[] {
  let names: string[]
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.sql'))
  } catch (error) {
    throw new InvalidInputError(dir, `cannot read the migrations directory (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  const scripts = names.map((name) => {
    const file = join(dir, name)
    return parseScript(file, name, readFileSync(file, 'utf8'))
  })
  scripts.sort((a, b) => compareVersions(a.version, b.version))
  for (let i = 1; i < scripts.length; i++) {
    if (compareVersions(scripts[i - 1]!.version, scripts[i]!.version) === 0) {
      throw new InvalidInputError(scripts[i]!.file, `same version as ${scripts[i - 1]!.name}`)
    }
  }
  return scripts
}

/** The scripts that take a schema from `current` (exclusive) to `target` (inclusive), in order. */
export function scriptsBetween(scripts: readonly MigrationScript[], current: Version, target: Version): MigrationScript[] {
  return scripts.filter((script) => compareVersions(script.version, current) > 0 && compareVersions(script.version, target) <= 0)
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
