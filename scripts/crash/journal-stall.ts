/**
 * A pause at an exact point of a run, made from outside the runner: a BEFORE INSERT trigger on
 * one of the runner's own journal tables sleeps when the runner writes a given row of this
 * service. While it sleeps the runner is held exactly there (say, after a DDL committed and
 * before its history row, or between two statements), so a kill lands at that point every
 * time instead of when a poll happens to catch a window of a few milliseconds.
 */
import type { RowDataPacket } from 'mysql2/promise'
import { JOURNAL_SCHEMA, type TestService } from '../lib/throwaway-service.js'

export interface JournalStall {
  table: 'handover_migrations' | 'handover_backfill_progress' | 'handover_run_facts'
  /** A condition on NEW besides the service, e.g. "NEW.part = 'expand' AND NEW.result = 'applied'". */
  when: string
  /** Whole seconds the runner is held (default 4). */
  seconds?: number
}

// An odd fraction marks the sleep as this stall's in the process list, which shows the trigger's own statement.
const STALL_MARK = '.321'

function triggerName(svc: TestService): string {
  return `crash_stall_${svc.schema}`.slice(0, 64)
}

export async function installStall(svc: TestService, stall: JournalStall): Promise<void> {
  // A fact row names its run, not its service.
  const ours =
    stall.table === 'handover_run_facts'
      ? `NEW.run_id IN (SELECT id FROM ${JOURNAL_SCHEMA}.handover_runs WHERE service = ${svc.db.escape(svc.name)})`
      : `NEW.service = ${svc.db.escape(svc.name)}`
  await svc.db.query(`CREATE TRIGGER ${JOURNAL_SCHEMA}.${triggerName(svc)} BEFORE INSERT ON ${JOURNAL_SCHEMA}.${stall.table} FOR EACH ROW
    IF ${ours} AND ${stall.when} THEN DO SLEEP(${stall.seconds ?? 4}${STALL_MARK}); END IF`)
}

export async function removeStall(svc: TestService): Promise<void> {
  await svc.db.query(`DROP TRIGGER IF EXISTS ${JOURNAL_SCHEMA}.${triggerName(svc)}`)
}

/** The runner is asleep in the trigger (the trigger fires for this service only). */
export async function stalled(svc: TestService): Promise<boolean> {
  const [rows] = await svc.db.query<RowDataPacket[]>(
    "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE STATE = 'User sleep' AND INFO LIKE ?",
    [`DO SLEEP(%${STALL_MARK})`],
  )
  return Number(rows[0]!.n) > 0
}
