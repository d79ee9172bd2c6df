/**
 * Scheduled upgrades as the CLI and the agent exchange them: what `handover schedule add`
 * asks for, and what the agent keeps and reports about each schedule and each of its
 * windows. A schedule names the config file and the image, never a secret: the run it
 * starts reads its secrets from the environment or the files its config names.
 */
import { InvalidInputError } from '../errors.js'
import * as v from './validate.js'

export interface ScheduleSpec {
  /** The service the config file names (checked by the CLI when the schedule is added). */
  service: string
  /** Absolute path of the service's handover.yaml. */
  config: string
  image: string
  /** A cron expression (5 fields, or 6 with seconds first), read in `timezone`. */
  cron: string
  /** An IANA time zone (UTC, Europe/Berlin): never the host's zone by default. */
  timezone: string
  /** How long after its time an upgrade may still start; past it the window counts as missed. */
  windowSeconds: number
}

/**
 * What became of one window: `running` (the upgrade was started), then how it ended
 * (`succeeded`, `rolled_back`, `needs_operator`, `failed`, or `unknown` when its process
 * ended while the agent was down); or it did not start: `missed` (the agent was not running
 * during the window) or `skipped` (another run of the service was unfinished).
 */
export const WINDOW_OUTCOMES = ['running', 'succeeded', 'rolled_back', 'needs_operator', 'failed', 'unknown', 'missed', 'skipped'] as const
export type WindowOutcome = (typeof WINDOW_OUTCOMES)[number]

export interface ScheduleWindow {
  /** ISO 8601, UTC: when the cron expression said to start. */
  scheduledAt: string
  outcome: WindowOutcome
  /** Why it was missed, skipped or failed, in a sentence. */
  reason?: string
  startedAt?: string
  finishedAt?: string
  /** The upgrade's run id, once it reported its start. */
  runId?: string
  pid?: number
  exitCode?: number | null
  /** Where the started command's output goes. */
  logFile?: string
}

export interface ScheduleView extends ScheduleSpec {
  id: string
  createdAt: string
  /** The next time the expression matches, ISO 8601 UTC. */
  nextRunAt: string | null
  /** Newest first; the agent keeps the last few. */
  windows: ScheduleWindow[]
}

const MAX_WINDOW_SECONDS = 24 * 3600

export function parseScheduleSpec(value: unknown, where: string): ScheduleSpec {
  const body = v.object(value, where, ['service', 'config', 'image', 'cron', 'timezone', 'windowSeconds'])
  const config = v.text(body.config, `${where}.config`, 4096)
  if (!config.startsWith('/')) throw new InvalidInputError(`${where}.config`, 'must be an absolute path (the agent runs in another directory)')
  return {
    service: v.name(body.service, `${where}.service`),
    config,
    image: v.text(body.image, `${where}.image`, 512),
    cron: v.text(body.cron, `${where}.cron`, 256),
    timezone: timeZone(body.timezone, `${where}.timezone`),
    windowSeconds: v.integer(body.windowSeconds, `${where}.windowSeconds`, 1, MAX_WINDOW_SECONDS),
  }
}

/** An IANA zone name the runtime knows; a typo would otherwise fire at the wrong hour. */
export function timeZone(value: unknown, where: string): string {
  const zone = v.text(value, where, 64)
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
  } catch {
    throw new InvalidInputError(where, `"${zone}" is not a time zone name (use an IANA name such as UTC or Europe/Berlin)`)
  }
  return zone
}

/** "90s", "30m", "2h" (or a bare number of seconds) as seconds. */
export function parseDuration(value: string, where: string): number {
  const match = /^(\d+)(s|m|h)?$/.exec(value.trim())
  const seconds = match ? Number(match[1]) * { s: 1, m: 60, h: 3600 }[(match[2] ?? 's') as 's' | 'm' | 'h'] : NaN
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_WINDOW_SECONDS) throw new InvalidInputError(where, `must be a duration such as 90s, 30m or 2h, at most 24h; got "${value}"`)
  return seconds
}
