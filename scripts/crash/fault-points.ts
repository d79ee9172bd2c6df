/**
 * The faults of the parts around an upgrade, as crash-matrix cases: the upgrade process is
 * left alive and something else fails under it. Each must end in a stated, consistent state
 * (on one version everywhere, the journal agreeing) with no acknowledged write lost.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import type { RowDataPacket } from 'mysql2/promise'
import { dbPassword } from '../lib/db-password.js'
import { demoMigrationsWith, JOURNAL_SCHEMA, type TestService } from '../lib/throwaway-service.js'
import { waitUntil } from '../lib/wait-until.js'
import type { KillPoint } from './kill-points.js'
import { PRIVATE_DB_PORT, type PrivateMariaDb } from './private-mariadb.js'
import { PRIVATE_DOCKER_HOST, type PrivateEngine } from './private-engine.js'

/** A release between 1 and 2 whose expand goes first, so the failing DDL of v2 is in the middle of the chain. */
const V1_5 = `-- handover:expand
ALTER TABLE people ADD COLUMN nickname VARCHAR(50) NULL;
-- handover:expand-undo
ALTER TABLE people DROP COLUMN IF EXISTS nickname;
`

export function faultPoints(parts: { mariadb: PrivateMariaDb; engine: PrivateEngine }): KillPoint[] {
  return [
    {
      name: 'fault: the agent killed and restarted while it holds requests',
      phase: 'flip',
      also: async (svc) => (await fetchHeld(svc)) > 0,
      strike: (svc) => svc.crashAgent(1000),
    },
    {
      name: 'fault: a DDL failing mid-chain (a long transaction holds its table)',
      phase: 'expand',
      migrations: (dir) => {
        const migrations = demoMigrationsWith(dir, (v2) => v2)
        writeFileSync(join(migrations, 'v1.5.sql'), V1_5)
        return migrations
      },
      stall: { table: 'handover_migrations', when: "NEW.script = 'v2.sql' AND NEW.part = 'expand' AND NEW.statement_index = 0 AND NEW.result = 'started'" },
      strike: holdTableUntilExpandFails,
    },
    {
      name: 'fault: the backup disk full',
      phase: 'backup',
      prepare: fillBackupDisk,
      strike: async () => {},
    },
    {
      name: 'fault: MariaDB restarted during expand',
      phase: 'expand',
      dbPort: PRIVATE_DB_PORT,
      environment: async () => {
        await parts.mariadb.start()
        return () => parts.mariadb.stop()
      },
      stall: { table: 'handover_backfill_progress', when: 'TRUE' },
      strike: () => parts.mariadb.restart(1000),
    },
    {
      name: 'fault: the Docker engine restarted during upgrade-standby',
      phase: 'upgrade-standby',
      // Every process of the case (the agent, the CLI, a takeover) talks to the private engine.
      environment: async () => {
        await parts.engine.start()
        await parts.engine.loadDemoImages()
        process.env.DOCKER_HOST = PRIVATE_DOCKER_HOST
        return async () => {
          delete process.env.DOCKER_HOST
          parts.engine.removeAll()
          await parts.engine.stop()
        }
      },
      strike: () => parts.engine.restart(1000),
    },
  ]
}

async function fetchHeld(svc: TestService): Promise<number> {
  const { AdminClient } = await import('../../src/protocol/admin-client.js')
  return (await new AdminClient(join(svc.dir, 'agent.sock'), 5).getService(svc.name)).buffered
}

/**
 * An open transaction that read the table keeps its metadata lock, so v2's ALTER cannot get
 * the table and fails after its retries. The transaction ends once the journal shows the
 * expand failed, so the undo can run.
 */
async function holdTableUntilExpandFails(svc: TestService): Promise<void> {
  const holder = await mysql.createConnection({ host: '127.0.0.1', user: 'handover', password: dbPassword(), database: svc.schema })
  await holder.query('START TRANSACTION')
  await holder.query('SELECT id FROM people LIMIT 1')
  void waitUntil(async () => {
    const [rows] = await svc.db.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM ${JOURNAL_SCHEMA}.handover_steps s JOIN ${JOURNAL_SCHEMA}.handover_runs r ON r.id = s.run_id
        WHERE r.service = ? AND s.phase = 'expand' AND s.status = 'failed'`,
      [svc.name],
    )
    return Number(rows[0]!.n) > 0
  }, 180_000, 'the expand to fail', 250)
    .catch(() => undefined)
    .finally(() => void holder.end())
}

/** The backup directory on a filesystem of 8 KiB, too small for the schema dump. */
async function fillBackupDisk(svc: TestService): Promise<() => Promise<void>> {
  const dir = join(svc.dir, 'backups')
  mkdirSync(dir, { recursive: true })
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', dir], { encoding: 'utf8' })
  if (mount.status !== 0) throw new Error(`cannot mount a small tmpfs on ${dir}: ${mount.stderr}`)
  return async () => void spawnSync('umount', [dir])
}
