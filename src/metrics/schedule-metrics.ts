/**
 * Scheduled upgrades in Prometheus: when each schedule fires next, and what became of its
 * windows (started, then how the run ended; or missed, skipped). A missed window is a
 * counter increase an alert can fire on, not only a log line.
 */
import { Counter, Gauge, type Registry } from 'prom-client'

export type ScheduleCount = 'started' | 'succeeded' | 'rolled_back' | 'needs_operator' | 'failed' | 'missed' | 'skipped' | 'unknown'

export class ScheduleMetrics {
  private readonly nextRun: Gauge<'service' | 'schedule'>
  private readonly windows: Counter<'service' | 'schedule' | 'outcome'>

  constructor(registry: Registry) {
    const registers = [registry]
    this.nextRun = new Gauge({ name: 'handover_schedule_next_run_timestamp_seconds', help: 'Unix time a scheduled upgrade is next due', labelNames: ['service', 'schedule'], registers })
    this.windows = new Counter({
      name: 'handover_scheduled_windows_total',
      help: 'Windows of scheduled upgrades by outcome: started, then succeeded, rolled_back, needs_operator, failed or unknown; or missed (the agent was down) or skipped (another run was unfinished)',
      labelNames: ['service', 'schedule', 'outcome'],
      registers,
    })
  }

  scheduled(service: string, schedule: string, nextRunAt: string | null): void {
    if (nextRunAt === null) this.nextRun.remove({ service, schedule })
    else this.nextRun.labels(service, schedule).set(Date.parse(nextRunAt) / 1000)
    // Every outcome's series exists from the start, so increase() sees the first one.
    for (const outcome of ['started', 'missed', 'skipped'] as const) this.windows.labels(service, schedule, outcome).inc(0)
  }

  count(service: string, schedule: string, outcome: ScheduleCount): void {
    this.windows.labels(service, schedule, outcome).inc()
  }

  removed(service: string, schedule: string): void {
    this.nextRun.remove({ service, schedule })
  }
}
