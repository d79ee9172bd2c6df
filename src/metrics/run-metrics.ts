/**
 * Series an SRE alerts and graphs on that the phase metrics do not give directly: when the
 * running phase started (for "stuck past its timeout"), whether the run crossed the point
 * of no return and failed after it, and the schema version the version table holds. All are
 * derived from the same upgrade events the agent already receives; nothing new is reported.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { RunResult, UpgradeEvent } from '../protocol/events.js'

/** The phase whose completion releases the buffer to the new slot (DESIGN.md section 5). */
export const POINT_OF_NO_RETURN_PHASE = 'contract'
/** The phase that writes the target version into the application's version table. */
export const VERSION_WRITTEN_PHASE = 'finalize'

interface RunState {
  runId: string
  fromVersion: string
  toVersion: string
  pastPointOfNoReturn: boolean
}

export class RunMetrics {
  private readonly phaseStarted: Gauge<'service' | 'phase'>
  private readonly pastPointOfNoReturn: Gauge<'service'>
  private readonly failedPastPointOfNoReturn: Counter<'service'>
  private readonly schemaVersion: Gauge<'service' | 'version'>
  private readonly running: Gauge<'service'>
  private readonly runs = new Map<string, RunState>()
  // What this instance set, so a change removes the old series (prom-client keeps them).
  private readonly startedPhase = new Map<string, string>()
  private readonly versionOf = new Map<string, string>()

  constructor(
    registry: Registry,
    private readonly now: () => number = Date.now,
  ) {
    const registers = [registry]
    this.phaseStarted = new Gauge({
      name: 'handover_upgrade_phase_started_timestamp_seconds',
      help: 'Unix time the running upgrade phase of a service started; no series while no phase runs',
      labelNames: ['service', 'phase'],
      registers,
    })
    this.pastPointOfNoReturn = new Gauge({
      name: 'handover_upgrade_point_of_no_return_passed',
      help: 'Whether the current (or last) upgrade run of a service released the buffer to the new version: 1 passed, 0 not',
      labelNames: ['service'],
      registers,
    })
    this.failedPastPointOfNoReturn = new Counter({
      name: 'handover_upgrade_failed_past_point_of_no_return_total',
      help: 'Upgrade runs that failed after the point of no return: not rolled back, v2 has served; needs an operator',
      labelNames: ['service'],
      registers,
    })
    this.schemaVersion = new Gauge({
      name: 'handover_schema_version_info',
      help: "The version in a service's version table as of its last upgrade event (1 for that version's series)",
      labelNames: ['service', 'version'],
      registers,
    })
    this.running = new Gauge({
      name: 'handover_upgrade_running',
      help: 'Whether an upgrade run of a service is in progress: 1 running, 0 not',
      labelNames: ['service'],
      registers,
    })
  }

  /** The run id of the service's upgrade in progress, if one is. */
  runningRunId(service: string): string | undefined {
    return this.runs.get(service)?.runId
  }

  record(event: UpgradeEvent): void {
    switch (event.type) {
      case 'run-started':
        this.runs.set(event.service, { runId: event.runId, fromVersion: event.fromVersion, toVersion: event.toVersion, pastPointOfNoReturn: false })
        this.running.labels(event.service).set(1)
        this.pastPointOfNoReturn.labels(event.service).set(0)
        this.failedPastPointOfNoReturn.labels(event.service).inc(0)
        this.setVersion(event.service, event.fromVersion)
        return
      case 'phase-started':
        this.clearPhase(event.service)
        this.phaseStarted.labels(event.service, event.phase).set(this.now() / 1000)
        this.startedPhase.set(event.service, event.phase)
        return
      case 'phase-completed':
        this.clearPhase(event.service)
        return this.completed(event.service, event.phase)
      case 'phase-failed':
      case 'phase-undone':
        return this.clearPhase(event.service)
      case 'run-finished':
        return this.finished(event.service, event.result)
      case 'point-of-no-return-crossed':
        // Reported just before the release; the contract's completion below is the fallback
        // for a `handover` that reports no facts.
        return this.crossed(event.service)
      default:
        return
    }
  }

  private completed(service: string, phase: string): void {
    const run = this.runs.get(service)
    if (run === undefined) return
    if (phase === POINT_OF_NO_RETURN_PHASE) this.crossed(service)
    if (phase === VERSION_WRITTEN_PHASE) this.setVersion(service, run.toVersion)
  }

  private crossed(service: string): void {
    const run = this.runs.get(service)
    if (run === undefined) return
    run.pastPointOfNoReturn = true
    this.pastPointOfNoReturn.labels(service).set(1)
  }

  private finished(service: string, result: RunResult): void {
    this.clearPhase(service)
    this.running.labels(service).set(0)
    const run = this.runs.get(service)
    this.runs.delete(service)
    if (run === undefined) return
    if (result === 'failed' && run.pastPointOfNoReturn) this.failedPastPointOfNoReturn.labels(service).inc()
    if (result === 'rolled_back') this.setVersion(service, run.fromVersion)
  }

  private clearPhase(service: string): void {
    const phase = this.startedPhase.get(service)
    if (phase === undefined) return
    this.phaseStarted.remove({ service, phase })
    this.startedPhase.delete(service)
  }

  private setVersion(service: string, version: string): void {
    const previous = this.versionOf.get(service)
    if (previous !== undefined && previous !== version) this.schemaVersion.remove({ service, version: previous })
    this.schemaVersion.labels(service, version).set(1)
    this.versionOf.set(service, version)
  }
}
