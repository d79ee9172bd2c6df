import type { RowDataPacket } from 'mysql2/promise'
import { HandoverError } from '../../errors.js'
import { quoteName, tableExists, type Connection } from '../connection.js'
import type { StatementLedger } from './migration-history.js'
import { scriptVersions, type MigrationScript } from './scripts/migration-script.js'
import { compareVersions, type Version, type VersionScheme } from './versions/version.js'

/** The history says a statement ran, and the schema says it did not: a run would skip it and report success. */
export class HistoryMismatchError extends HandoverError {
  readonly code = 'HISTORY_MISMATCH'

  constructor(readonly differences: readonly string[]) {
    super(
      `the migration history and the schema disagree: ${differences.join('; ')}; ` +
        'if the schema was restored from a dump, `handover backup restore` resets the history to it; otherwise delete the stale rows of handover_migrations for these scripts',
    )
  }
}

/** What a recorded statement must have left in the schema, for the kinds whose effect can be looked up. */
const PRESENT: Record<string, 'table' | 'column' | 'index'> = { 'create-table': 'table', 'add-column': 'column', 'add-index': 'index', 'add-unique-index': 'index' }

/**
 * Every statement of the chain recorded as applied whose effect is not in the schema (a
 * table, column or key it adds is missing): after a restore of an older dump, or a hand
 * edit. Checked before a new run and by `plan`, so neither trusts a history the schema
 * contradicts.
 */
export async function historyDifferences(db: Connection, schema: string, history: StatementLedger, scripts: readonly MigrationScript[]): Promise<string[]> {
  const differences: string[] = []
  for (const script of scripts) {
    for (const part of ['expand', 'contract'] as const) {
      const applied = await history.appliedIndexes(script, part)
      for (const index of applied) {
        const statement = script.parts[part][index]
        for (const clause of statement?.classified?.clauses ?? []) {
          const what = PRESENT[clause.kind]
          if (!what || (await present(db, schema, what, clause.table, clause.column ?? clause.index))) continue
          const object = what === 'table' ? `table ${clause.table}` : `${what} ${clause.table}.${clause.column ?? clause.index ?? '?'}`
          differences.push(`${script.name}:${statement!.line} (${part}) is recorded as applied but ${object} is not in ${schema}`)
        }
      }
    }
  }
  return differences
}

async function present(db: Connection, schema: string, what: 'table' | 'column' | 'index', table: string, name: string | undefined): Promise<boolean> {
  if (what === 'table') return tableExists(db, schema, table)
  if (!name) return true
  const sql =
    what === 'column'
      ? 'SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?'
      : 'SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = ?'
  const [rows] = await db.query<RowDataPacket[]>(sql, [schema, table, name])
  return rows.length > 0
}

/**
 * After a restore: the history of every script above the restored schema's version
 * describes a moment after the dump, so it is forgotten (statements, soft drops, backfill
 * progress) and the next upgrade runs those scripts again. Returns the scripts forgotten.
 */
export async function forgetHistoryAbove(db: Connection, journalSchema: string, service: string, version: Version, scheme: VersionScheme): Promise<string[]> {
  if (!(await tableExists(db, journalSchema, 'handover_migrations'))) return []
  const journal = quoteName(journalSchema)
  const [rows] = await db.query<RowDataPacket[]>(`SELECT DISTINCT script FROM ${journal}.handover_migrations WHERE service = ?`, [service])
  const above = rows.map((row) => String(row.script)).filter((script) => {
    try {
      return compareVersions(scriptVersions(script, script, scheme).version, version) > 0
    } catch {
      return false
    }
  })
  for (const table of ['handover_migrations', 'handover_soft_drops', 'handover_backfill_progress']) {
    if (above.length === 0 || !(await tableExists(db, journalSchema, table))) continue
    await db.query(`DELETE FROM ${journal}.${quoteName(table)} WHERE service = ? AND script IN (?)`, [service, above])
  }
  return above.sort()
}
