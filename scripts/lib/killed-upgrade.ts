/**
 * An upgrade CLI cut off the hard way: `handover upgrade` spawned as a child process and
 * killed with SIGKILL (no handler runs, no undo, no journal update) once the journal shows
 * a given phase started, the way a lost SSH session or an OOM kill would leave a run.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { RowDataPacket } from 'mysql2/promise'
import { HANDOVER_BIN } from './handover-process.js'
import { waitUntil } from './wait-until.js'
import type { PhaseName } from '../../src/protocol/phases.js'
import { JOURNAL_SCHEMA, type TestService } from './throwaway-service.js'

export interface UpgradeProcess {
  child: ChildProcess
  output(): string
  /** Resolves with the exit code, or the signal name when killed. */
  exited: Promise<number | string | null>
}

export function spawnUpgrade(svc: TestService, image: string): UpgradeProcess {
  const child = spawn(process.execPath, [HANDOVER_BIN, 'upgrade', '--config', svc.configFile, '--image', image], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)))
  return { child, output: () => output, exited }
}

/** Whether the journal has a forward step of `phase` for the service's latest run. */
export async function phaseStarted(svc: TestService, phase: PhaseName): Promise<boolean> {
  const [rows] = await svc.db.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM ${JOURNAL_SCHEMA}.handover_steps s JOIN ${JOURNAL_SCHEMA}.handover_runs r ON r.id = s.run_id
      WHERE r.service = ? AND s.phase = ? AND s.action = 'forward'`,
    [svc.name, phase],
  )
  return Number(rows[0]!.n) > 0
}

/**
 * Waits (bounded) until `phase` started and `also` holds, then SIGKILLs this child by its PID
 * and waits for it to be gone. Fails if the upgrade exits by itself first.
 */
export async function killWhenStarted(svc: TestService, upgrade: UpgradeProcess, phase: PhaseName, also: () => Promise<boolean> = async () => true): Promise<void> {
  let gone = false
  void upgrade.exited.then(() => (gone = true))
  await waitUntil(
    async () => {
      if (gone) throw new Error(`the upgrade exited before ${phase} started: ${upgrade.output()}`)
      return (await phaseStarted(svc, phase)) && (await also())
    },
    90_000,
    `${phase} to start`,
    20,
  )
  process.kill(upgrade.child.pid!, 'SIGKILL')
  await upgrade.exited
}

/** MariaDB frees a dead client's named lock once its thread ends; a resume right after a kill waits for that, bounded. */
export async function waitLockFree(svc: TestService): Promise<void> {
  await waitUntil(
    async () => {
      const [rows] = await svc.db.query<RowDataPacket[]>('SELECT IS_FREE_LOCK(?) AS free', [`handover:${svc.name}`])
      return Number(rows[0]!.free) === 1
    },
    30_000,
    `the lock of the killed run of ${svc.name} to be freed`,
  )
}

export async function runRow(svc: TestService): Promise<{ id: string; state: string; ponr: number }> {
  const [rows] = await svc.db.query<RowDataPacket[]>(
    `SELECT id, state, point_of_no_return_passed AS ponr FROM ${JOURNAL_SCHEMA}.handover_runs WHERE service = ? ORDER BY started_at DESC LIMIT 1`,
    [svc.name],
  )
  return { id: String(rows[0]!.id), state: String(rows[0]!.state), ponr: Number(rows[0]!.ponr) }
}
