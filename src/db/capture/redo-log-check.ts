import type { RowDataPacket } from 'mysql2/promise'
import type { Connection } from '../connection.js'

/** A table the expand rewrites that is bigger than the server's redo log. */
export interface RedoLogShortfall {
  table: string
  tableMib: number
  redoLogMib: number
}

const MIB = 1024 * 1024

/**
 * A backfill or an online rebuild writes about as much redo as its table holds. When that is
 * more than the redo log, InnoDB runs out of checkpoint room while it runs and flushes in a
 * hurry, and for those moments every write of the server waits, the service's included
 * (measured: up to half a second, docs/backfill.md). The remedy is the server's, and online:
 * `SET GLOBAL innodb_log_file_size`. Returns the largest such table, if any.
 */
export async function redoLogShortfall(connection: Connection, schema: string, tables: readonly string[]): Promise<RedoLogShortfall | undefined> {
  if (tables.length === 0) return undefined
  const [redo] = await connection.query<RowDataPacket[]>('SELECT @@GLOBAL.innodb_log_file_size AS size')
  const redoBytes = Number(redo[0]!.size)
  const [sizes] = await connection.query<RowDataPacket[]>(
    'SELECT TABLE_NAME AS name, DATA_LENGTH + INDEX_LENGTH AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?) ORDER BY bytes DESC LIMIT 1',
    [schema, [...new Set(tables)]],
  )
  const largest = sizes[0]
  if (!largest || Number(largest.bytes) <= redoBytes) return undefined
  return { table: String(largest.name), tableMib: Math.ceil(Number(largest.bytes) / MIB), redoLogMib: Math.floor(redoBytes / MIB) }
}

export function redoLogAdvice(shortfall: RedoLogShortfall): string {
  return (
    `the expand rewrites ${shortfall.table} (~${shortfall.tableMib} MiB), more than the server's redo log (${shortfall.redoLogMib} MiB): ` +
    `InnoDB's checkpoints may stop every write of the server for moments while it runs; ` +
    `raise innodb_log_file_size (online: SET GLOBAL innodb_log_file_size = ${shortfall.tableMib * MIB}) before the upgrade`
  )
}

/** The tables the expand rewrites whole: those a backfill runs on, and those rebuilt online. */
export function rewrittenTables(
  scripts: readonly { name: string; parts: { expand: readonly { classified?: { table?: string } }[] } }[],
  rehearsed: readonly { script: string; part: string; index: number; backfill?: unknown }[],
  rebuilt: readonly { table: string }[],
): string[] {
  const backfilled = rehearsed.flatMap((statement) => {
    if (statement.part !== 'expand' || !statement.backfill) return []
    const table = scripts.find((script) => script.name === statement.script)?.parts.expand[statement.index]?.classified?.table
    return table ? [table] : []
  })
  return [...backfilled, ...rebuilt.map((spec) => spec.table)]
}
