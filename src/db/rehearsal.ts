import { randomBytes } from 'node:crypto'
import type { RowDataPacket } from 'mysql2/promise'
import { HandoverError, errorMessage } from '../errors.js'
import { alterCheapest, isAlterTable, type AlterAlgorithm } from './alter-algorithm.js'
import { quoteName, type Connection } from './connection.js'
import type { MigrationScript, ScriptPart } from './migration-script.js'

export class RehearsalFailedError extends HandoverError {
  readonly code = 'REHEARSAL_FAILED'

  constructor(
    readonly script: string,
    readonly line: number,
    readonly part: ScriptPart,
    reason: string,
  ) {
    super(`rehearsal on a copy of the schema: ${script}:${line} (${part}) fails: ${reason}; nothing real was changed`)
  }
}

export interface RehearsedStatement {
  script: string
  part: ScriptPart
  index: number
  line: number
  /** For an ALTER TABLE: the cheapest algorithm the server accepted. */
  algorithm?: AlterAlgorithm
}

/** Forward parts in the order an upgrade runs them, then the undo parts in the order a rollback would. */
const REHEARSAL_ORDER: readonly { part: ScriptPart; reverse: boolean }[] = [
  { part: 'expand', reverse: false },
  { part: 'contract', reverse: false },
  { part: 'contract-undo', reverse: true },
  { part: 'expand-undo', reverse: true },
]

/**
 * Runs the whole chain, undo parts included, against a structure-only copy of the schema,
 * so a statement that fails (or a rollback that would) is found before anything real
 * changes, and every ALTER's algorithm is known before it runs for real. The copy is always
 * removed.
 */
export async function rehearse(connection: Connection, schema: string, scripts: readonly MigrationScript[]): Promise<RehearsedStatement[]> {
  const copy = `_handover_rehearsal_${randomBytes(4).toString('hex')}`
  try {
    await copyStructure(connection, schema, copy)
    const rehearsed: RehearsedStatement[] = []
    for (const { part, reverse } of REHEARSAL_ORDER) {
      for (const script of reverse ? [...scripts].reverse() : scripts) rehearsed.push(...(await rehearsePart(connection, script, part)))
    }
    return rehearsed
  } finally {
    await connection.query(`DROP DATABASE IF EXISTS ${quoteName(copy)}`)
    await connection.query('SET SESSION foreign_key_checks = 1')
  }
}

async function rehearsePart(connection: Connection, script: MigrationScript, part: ScriptPart): Promise<RehearsedStatement[]> {
  const rehearsed: RehearsedStatement[] = []
  for (const [index, statement] of script.parts[part].entries()) {
    const base = { script: script.name, part, index, line: statement.line }
    try {
      if (isAlterTable(statement.sql)) rehearsed.push({ ...base, algorithm: await alterCheapest(connection, statement.sql) })
      else {
        await connection.query(statement.sql)
        rehearsed.push(base)
      }
    } catch (error) {
      throw new RehearsalFailedError(script.name, statement.line, part, errorMessage(error))
    }
  }
  return rehearsed
}

/** Tables only, no rows: SHOW CREATE TABLE replayed in the copy, foreign keys included. */
async function copyStructure(connection: Connection, schema: string, copy: string): Promise<void> {
  await connection.query(`CREATE DATABASE ${quoteName(copy)}`)
  const [tables] = await connection.query<RowDataPacket[]>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'",
    [schema],
  )
  await connection.query(`USE ${quoteName(copy)}`)
  // Tables referencing each other by foreign key can then be created in any order.
  await connection.query('SET SESSION foreign_key_checks = 0')
  for (const { name } of tables) {
    const [rows] = await connection.query<RowDataPacket[]>(`SHOW CREATE TABLE ${quoteName(schema)}.${quoteName(String(name))}`)
    await connection.query(String(rows[0]!['Create Table']))
  }
  await connection.query('SET SESSION foreign_key_checks = 1')
}
