/**
 * Where the crash matrix cuts an upgrade off: as each phase starts, and at the moments inside
 * a phase that matter most (between two statements of the expand and of the contract, while
 * the flip holds requests, at the release). Each point is a condition read from the journal,
 * the migration history and the agent, polled until it holds.
 */
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { PHASE_NAMES, type PhaseName } from '../../src/protocol/phases.js'
import { JOURNAL_SCHEMA, type TestService } from '../lib/throwaway-service.js'

export interface KillPoint {
  name: string
  phase: PhaseName
  /** Besides the phase having started; true by default. */
  also?: (svc: TestService) => Promise<boolean>
}

async function held(svc: TestService): Promise<boolean> {
  return (await new AdminClient(join(svc.dir, 'agent.sock'), 5).getService(svc.name)).buffered > 0
}

async function applied(svc: TestService, part: 'expand' | 'contract'): Promise<number> {
  const [rows] = await svc.db.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM ${JOURNAL_SCHEMA}.handover_migrations WHERE service = ? AND part = ? AND result = 'applied'`,
    [svc.name, part],
  )
  return Number(rows[0]!.n)
}

export const KILL_POINTS: readonly KillPoint[] = [
  ...PHASE_NAMES.map((phase) => ({ name: `entering ${phase}`, phase })),
  { name: 'expand, between two statements', phase: 'expand', also: async (svc) => (await applied(svc, 'expand')) === 1 },
  { name: 'flip, while requests are held', phase: 'flip', also: held },
  { name: 'contract, between two statements', phase: 'contract', also: async (svc) => (await applied(svc, 'contract')) === 1 },
  { name: 'contract, at the release', phase: 'contract', also: async (svc) => (await applied(svc, 'contract')) >= 2 && (await held(svc)) },
]
