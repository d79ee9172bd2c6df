/**
 * Turns the upgrade event stream (reported by `handover` runs over the admin API) into
 * Prometheus series, so Grafana shows phases continuously even though each run is its
 * own short-lived process.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { isUpgradeFact, type UpgradeEvent } from '../protocol/events.js'
import { FactMetrics } from './fact-metrics.js'
import { RunMetrics } from './run-metrics.js'

const PHASE_BUCKETS = [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600]

type PhaseResult = 'completed' | 'failed' | 'undone' | 'undo_failed'

export class UpgradeMetrics {
  private readonly phase: Gauge<'service' | 'phase'>
  private readonly phaseDuration: Histogram<'service' | 'phase' | 'result'>
  private readonly upgrades: Counter<'service' | 'result'>
  private readonly rollbacks: Counter<'service'>
  private readonly rollbacksStarted: Counter<'service'>
  // Runs whose rollback has begun, so their first undo counts once; forgotten at run-finished.
  private readonly rollingBack = new Set<string>()
  // Phases seen per service, so a new phase can zero the previous one's gauge.
  private readonly seenPhases = new Map<string, Set<string>>()
  /** Phase start times, the point of no return, the schema version, the run in progress. */
  readonly runs: RunMetrics
  /** What the runs reported doing: statements, held requests, soft drops, containers. */
  readonly facts: FactMetrics
  private readonly listeners: Array<(event: UpgradeEvent) => void> = []

  constructor(registry: Registry) {
    const registers = [registry]
    this.phase = new Gauge({
      name: 'handover_upgrade_phase',
      help: 'Upgrade phase currently running per service: 1 for the running phase, 0 for other phases seen',
      labelNames: ['service', 'phase'],
      registers,
    })
    this.phaseDuration = new Histogram({
      name: 'handover_upgrade_phase_duration_seconds',
      help: 'Duration of an upgrade phase (forward or undo) by result',
      labelNames: ['service', 'phase', 'result'],
      buckets: PHASE_BUCKETS,
      registers,
    })
    this.upgrades = new Counter({
      name: 'handover_upgrades_total',
      help: 'Finished upgrade runs by result',
      labelNames: ['service', 'result'],
      registers,
    })
    this.rollbacks = new Counter({
      name: 'handover_upgrade_rollbacks_total',
      help: 'Upgrade runs that ended rolled back to the old version',
      labelNames: ['service'],
      registers,
    })
    this.rollbacksStarted = new Counter({
      name: 'handover_upgrade_rollbacks_started_total',
      help: 'Upgrade runs that began rolling back; more than handover_upgrade_rollbacks_total means a rollback stopped half-way',
      labelNames: ['service'],
      registers,
    })
    this.runs = new RunMetrics(registry)
    this.facts = new FactMetrics(registry)
  }

  /** Called with each event after it is counted (the agent logs them). */
  subscribe(listener: (event: UpgradeEvent) => void): void {
    this.listeners.push(listener)
  }

  record(event: UpgradeEvent): void {
    this.runs.record(event)
    for (const listener of this.listeners) listener(event)
    if (isUpgradeFact(event)) return this.facts.record(event)
    switch (event.type) {
      case 'run-started':
        this.setRunning(event.service, undefined)
        // A counter's series must exist at 0 before its first increment, or rate() and
        // increase() miss that increment (and the dashboard shows "no data", not 0).
        this.rollbacks.labels(event.service).inc(0)
        this.facts.runStarted(event.service)
        return
      case 'phase-started':
        this.setRunning(event.service, event.phase)
        return
      case 'phase-completed':
        return this.phaseEnded(event.service, event.phase, 'completed', event.durationSeconds)
      case 'phase-failed':
        return this.phaseEnded(event.service, event.phase, 'failed', event.durationSeconds)
      case 'phase-undo-started':
        // The gauge shows where the run is, forward or back.
        this.setRunning(event.service, event.phase)
        if (!this.rollingBack.has(event.runId)) this.rollbacksStarted.labels(event.service).inc()
        this.rollingBack.add(event.runId)
        return
      case 'phase-undone':
        return this.phaseEnded(event.service, event.phase, event.ok ? 'undone' : 'undo_failed', event.durationSeconds)
      case 'run-finished':
        this.rollingBack.delete(event.runId)
        this.setRunning(event.service, undefined)
        this.upgrades.labels(event.service, event.result).inc()
        if (event.result === 'rolled_back') this.rollbacks.labels(event.service).inc()
        return
      default: {
        // A new event type must be given a meaning here before it compiles.
        const unhandled: never = event
        return unhandled
      }
    }
  }

  private phaseEnded(service: string, phase: string, result: PhaseResult, seconds: number): void {
    this.phaseDuration.labels(service, phase, result).observe(seconds)
    this.phase.labels(service, phase).set(0)
    this.seen(service).add(phase)
  }

  private setRunning(service: string, running: string | undefined): void {
    const seen = this.seen(service)
    if (running !== undefined) seen.add(running)
    for (const phase of seen) this.phase.labels(service, phase).set(phase === running ? 1 : 0)
  }

  private seen(service: string): Set<string> {
    let phases = this.seenPhases.get(service)
    if (phases === undefined) {
      phases = new Set()
      this.seenPhases.set(service, phases)
    }
    return phases
  }
}
