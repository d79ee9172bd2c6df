/**
 * Runs the agent keeps alive. A runner (`handover upgrade`, `resume`, `abort`) renews its
 * run's lease twice a second; when renewals stop for `leaseSeconds` (HOLDING_LEASE_SECONDS
 * while the service's requests are held, since then every second counts) its process is
 * taken for dead and the agent launches `handover resume` for the run. The service lock in MariaDB
 * stays the authority: a takeover of a runner that still lives is refused (LOCK_HELD).
 */
import { InvalidInputError } from '../errors.js'
import * as v from './validate.js'

export interface RunLease {
  service: string
  runId: string
  /** Absolute path of the service's config: what the takeover's `handover resume --config` reads. */
  configFile: string
  /** The runner's working directory, where the takeover runs too. */
  cwd: string
  leaseSeconds: number
  /** The renewing process, so the agent can tell its own takeover's renewals from the runner's. */
  holderPid?: number
}

/** `leased`: a runner renews it; `taking-over`: a resume the agent launched runs; `gave-up`: takeovers kept failing, an operator must act. */
export const WATCH_STATES = ['leased', 'taking-over', 'gave-up'] as const
export type WatchState = (typeof WATCH_STATES)[number]

export interface WatchedRun extends RunLease {
  state: WatchState
  /** When the lease was last renewed (ISO time). */
  renewedAt: string
  /** Resumes the agent launched for this run so far. */
  takeovers: number
  /** The running takeover's process, and where its output goes. */
  takeoverPid?: number
  logFile?: string
  /** The last takeover's exit code; null when a signal ended it. */
  lastExit?: number | null
}

export const RUN_RENEW_INTERVAL_MS = 500
export const HOLDING_LEASE_SECONDS = 1.5
export const DEFAULT_LEASE_SECONDS = 3
export const MAX_LEASE_SECONDS = 60

export function parseRunLease(body: unknown, where: string, runId: string): RunLease {
  const fields = v.object(body, where, ['service', 'configFile', 'cwd', 'leaseSeconds', 'holderPid'])
  return {
    service: v.name(fields.service, `${where}.service`),
    runId: v.name(runId, 'path.runId'),
    configFile: absolutePath(fields.configFile, `${where}.configFile`),
    cwd: absolutePath(fields.cwd, `${where}.cwd`),
    leaseSeconds: v.finite(fields.leaseSeconds ?? DEFAULT_LEASE_SECONDS, `${where}.leaseSeconds`, 1, MAX_LEASE_SECONDS),
    ...(fields.holderPid === undefined ? {} : { holderPid: v.integer(fields.holderPid, `${where}.holderPid`, 1, 2 ** 31) }),
  }
}

function absolutePath(value: unknown, where: string): string {
  const path = v.text(value, where, 4096)
  if (!path.startsWith('/')) throw new InvalidInputError(where, 'must be an absolute path')
  return path
}
