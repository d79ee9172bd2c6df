/**
 * Where the crash matrix cuts an upgrade off: as each phase starts, and at the moments inside
 * a phase that matter most (between two statements of the expand and of the contract, while
 * the flip holds requests, at the release). Each point is a condition read from the journal,
 * the migration history and the agent, polled until it holds, or a stall that holds the
 * runner exactly there.
 */
import { join } from 'node:path'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { PHASE_NAMES, type PhaseName } from '../../src/protocol/phases.js'
import type { TestService } from '../lib/throwaway-service.js'
import type { JournalStall } from './journal-stall.js'

export interface KillPoint {
  name: string
  phase: PhaseName
  /** Besides the phase having started; true by default. */
  also?: (svc: TestService) => Promise<boolean>
  /** Holds the runner at the point until the kill (see journal-stall.ts); `also` is then "it is held". */
  stall?: JournalStall
  /** A fault instead of the kill: the upgrade process is left alive. */
  strike?: (svc: TestService) => Promise<void>
  /** The service's migrations: a copy made in `dir`. */
  migrations?: (dir: string) => string
  /** The service's database on another server (port). */
  dbPort?: number
  /** Made before the service (a private server or engine to fault); returns what undoes it. */
  environment?: () => Promise<() => Promise<void>>
  /** Made before the deploy; returns what undoes it. */
  prepare?: (svc: TestService) => Promise<() => Promise<void>>
}

async function held(svc: TestService): Promise<boolean> {
  return (await new AdminClient(join(svc.dir, 'agent.sock'), 5).getService(svc.name)).buffered > 0
}

export const KILL_POINTS: readonly KillPoint[] = [
  ...PHASE_NAMES.map((phase) => ({ name: `entering ${phase}`, phase })),
  {
    name: 'expand, a DDL committed, its history row not written',
    phase: 'expand',
    stall: { table: 'handover_migrations', when: "NEW.part = 'expand' AND NEW.statement_index = 0 AND NEW.result = 'applied'" },
  },
  { name: 'expand, between two statements', phase: 'expand', stall: { table: 'handover_backfill_progress', when: 'TRUE' } },
  { name: 'flip, while requests are held', phase: 'flip', also: held },
  {
    name: 'contract, between two statements',
    phase: 'contract',
    stall: { table: 'handover_migrations', when: "NEW.part = 'contract' AND NEW.statement_index = 1 AND NEW.result = 'started'" },
  },
  {
    // The last DDL of the contract committed and the requests still held: the moment before the release.
    name: 'contract, at the release',
    phase: 'contract',
    stall: { table: 'handover_migrations', when: "NEW.part = 'contract' AND NEW.statement_index = 1 AND NEW.result = 'applied'" },
  },
]
