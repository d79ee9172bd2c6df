import type { HandoverConfig, SlotName } from '../../config/config.js'
import type { Connection } from '../../db/connection.js'
import type { MigrationExecutor } from '../../db/migrations/migration-executor.js'
import type { MigrationScript } from '../../db/migrations/scripts/migration-script.js'
import type { RehearsedAlgorithm } from '../../db/journal/run-algorithms.js'
import type { UpgradeFactReport } from '../../protocol/events.js'
import type { PhaseName } from '../../protocol/phases.js'
import type { DockerRuntime } from '../../runtime/docker-runtime.js'
import type { ProxyControl } from '../slots/proxy-control.js'

export interface Release {
  image: string
  version: string
}

/** Everything a phase may use, gathered (read-only) before the first phase runs. */
export interface UpgradeContext {
  config: HandoverConfig
  runId: string
  /** Slot B: taken out of rotation and upgraded first. */
  standby: SlotName
  /** Slot A: keeps serving v1 until the flip. */
  active: SlotName
  from: Release
  to: Release
  /** The scripts between the schema's version and the target, in order. */
  scripts: MigrationScript[]
  docker: DockerRuntime
  proxy: ProxyControl
  db: Connection
  migrations: MigrationExecutor
  pointOfNoReturnPassed: boolean
  markPointOfNoReturn(passed: boolean): Promise<void>
  /** The rehearsal's algorithms: given to the executor, and kept with the run for a resume. */
  rememberAlgorithms(rehearsed: readonly RehearsedAlgorithm[]): Promise<void>
  /**
   * What happened, as a typed fact: printed by the CLI, journaled, counted by the agent.
   * Delivered in order without blocking the caller (migration callbacks are synchronous);
   * the runner settles the reports before a phase counts as done.
   */
  report(fact: UpgradeFactReport): void
  /** Waits for every report so far; throws the first that could not be journaled. */
  settleReports(): Promise<void>
}

/**
 * A phase: one step forward, and the way back from any state it may have left. Its bound is
 * config.timeouts.phases[name]; `signal` aborts at that bound, and the runner waits for the
 * phase to stop before undoing it, so pass it to every call that can block.
 */
export interface Phase {
  name: PhaseName
  forward(context: UpgradeContext, signal: AbortSignal): Promise<void>
  /** Must work from any partial state of `forward`, including "not started". */
  undo?(context: UpgradeContext, signal: AbortSignal): Promise<void>
}
