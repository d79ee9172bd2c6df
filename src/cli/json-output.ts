/**
 * What `--json` prints, one type per command. These shapes are an interface for scripts:
 * add fields, never rename or remove one (README.md, "Scripting the CLI").
 */
import type { UpgradeFactReport } from '../protocol/events.js'
import type { ScheduleView } from '../protocol/schedules.js'
import type { WatchedRun } from '../protocol/run-leases.js'
import type { Output } from './command.js'

/** `handover history --json`: newest run first. */
export interface HistoryJson {
  service: string
  runs: HistoryRunJson[]
}

export interface HistoryRunJson {
  id: string
  fromVersion: string
  toVersion: string
  fromImage: string
  toImage: string
  /** ISO 8601, UTC. */
  startedAt: string
  finishedAt: string | null
  /** null while the run is still going. */
  durationSeconds: number | null
  result: 'running' | 'succeeded' | 'rolled_back' | 'failed'
  pointOfNoReturnPassed: boolean
  /** Who ran it: the OS user and host the CLI ran as. */
  operator: string
  host: string
  error: { code: string; message: string } | null
  /** Folded from the facts the run reported (all zero or null for a run journaled before facts were). */
  summary: RunSummaryJson
}

export interface RunSummaryJson {
  /** Migration statements applied (forward and undo). */
  statements: number
  /** Rows they changed or copied, as the server reported. */
  rowsTouched: number
  /** Requests held in the buffer and released to a slot. */
  heldRequestsReleased: number
  /** The longest any released request was held; null when nothing was released. */
  longestHoldSeconds: number | null
  softDropsMade: number
  softDropsPurged: number
  containersReplaced: number
  /** ISO 8601, UTC; null when the run did not cross it. */
  pointOfNoReturnCrossedAt: string | null
  backupBytes: number | null
}

/**
 * One fact a run reported (src/protocol/upgrade-facts.ts lists every type and its fields):
 * `type`, the fact's fields, the phase that reported it and when (ISO 8601, UTC).
 */
export type RunFactJson = UpgradeFactReport & { phase: string | null; at: string }

/** `handover status --json`. */
export interface StatusJson {
  service: string
  proxy: {
    listen: string
    /** null when the agent did not answer; `error` says why. */
    buffered: number | null
    error: string | null
  }
  slots: StatusSlotJson[]
  schema: { name: string; version: string }
  /**
   * `processGone`: the run is `running` in the journal but no process holds the service lock.
   * `watch`: the agent's watch of the run (its lease, a takeover under way, or given up); null when the agent does not watch it.
   * `facts`: what the run reported doing, in order (RunFactJson).
   */
  lastRun: (HistoryRunJson & { steps: StatusStepJson[]; facts: RunFactJson[]; processGone: boolean; watch: WatchedRun | null }) | null
  /** The agent's schedules of this service with their last windows; null when the agent did not answer. */
  schedules: ScheduleView[] | null
}

export interface StatusSlotJson {
  slot: 'blue' | 'green'
  port: number
  /** The agent's view; null when the agent did not answer. */
  proxy: { state: string; inFlight: number; healthy: boolean } | null
  container: { image: string; running: boolean; exitCode: number } | null
  /** What GET versionPath answered; null when the container is not running or did not answer. */
  answersVersion: string | null
}

export interface StatusStepJson {
  phase: string
  action: 'forward' | 'undo'
  status: 'started' | 'completed' | 'failed'
  startedAt: string
  durationSeconds: number | null
  errorMessage: string | null
}

/** `handover plan --json`. */
export interface PlanJson {
  schema: string
  current: string
  target: string
  /** false when an upgrade along this plan would be refused; `refusals` says why. */
  allowed: boolean
  refusals: string[]
  /** What an operator should know and may act on before the upgrade; nothing here refuses it. */
  warnings: string[]
  scripts: Array<{
    name: string
    from: string
    to: string
    /** For a bundle: the single scripts it stands in for. */
    replaces: string[]
    statements: Array<{
      part: string
      line: number
      sql: string
      kind: string | null
      /** The ALTER algorithm the server accepted in the rehearsal (INSTANT, NOCOPY, INPLACE, COPY). */
      algorithm: string | null
      /** A contract's drop kept under this name until finalize. */
      keptAs: string | null
      /** How an undo reverses a contract statement of a script without markers: its tables' definitions put back (checked in the rehearsal), or its rows brought back to a copy taken before it. */
      undoneBy: 'definition' | 'rows' | null
      /** A backfill: how the old version's writes are captured (row-trigger, changed-keys, uncaptured) and whether it runs in key-range chunks. */
      backfill: { capture: string; chunked: boolean } | null
      /** A contract catch-up that the capture of its backfill makes unnecessary: it does not run. */
      replacedByCapture: boolean
      /** A contract ALTER whose table is rebuilt beside it during the expand (chunked copy, writes recorded): the contract only swaps it in. */
      rebuiltOnline: boolean
      /** A contract statement that scans or rebuilds a table while requests are held: its estimated time. */
      heldSeconds: number | null
    }>
  }>
  rehearsal: { statements: number; undoStatements: number }
  /** The contract's estimated hold of requests against the buffer's wait; past it the plan is refused. */
  hold: { estimateSeconds: number; maxWaitSeconds: number }
}

/** `handover backup list --json`: newest first. */
export interface BackupListJson {
  schema: string
  dir: string
  backups: Array<{ file: string; bytes: number; modifiedAt: string }>
}

/** `handover schedule list --json` (and `add --json`, with the one schedule added). */
export interface ScheduleListJson {
  /** ScheduleView in src/protocol/schedules.ts: the spec, id, createdAt, nextRunAt and the last windows, newest first. */
  schedules: ScheduleView[]
}

export function printJson(output: Output, value: HistoryJson | StatusJson | PlanJson | BackupListJson | ScheduleListJson): void {
  output.out(JSON.stringify(value, null, 2))
}
