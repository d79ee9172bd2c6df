/**
 * Counts the facts a run reports (protocol/upgrade-facts.ts): statements by part and
 * algorithm with their durations and rows, held requests released,
 * soft drops made and purged, containers replaced, the point of no return crossed. Labels
 * are only names from closed lists (part, algorithm, slot) and the service: a script or
 * table name never becomes a label, so a run cannot blow up the series count.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { UpgradeFact } from '../protocol/events.js'

const STATEMENT_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800]

export class FactMetrics {
  private readonly facts: Counter<'service' | 'fact'>
  private readonly statements: Counter<'service' | 'part' | 'algorithm' | 'outcome'>
  private readonly statementDuration: Histogram<'service' | 'part'>
  private readonly rowsTouched: Counter<'service' | 'part'>
  private readonly released: Counter<'service' | 'slot'>
  private readonly softDrops: Counter<'service' | 'action'>
  private readonly containers: Counter<'service' | 'slot'>
  private readonly crossings: Counter<'service'>
  private readonly backupBytes: Gauge<'service'>

  constructor(registry: Registry) {
    const registers = [registry]
    this.facts = new Counter({ name: 'handover_upgrade_facts_total', help: 'Facts upgrade runs reported, by type (statement-applied, requests-released, ...)', labelNames: ['service', 'fact'], registers })
    this.statements = new Counter({
      name: 'handover_migration_statements_total',
      help: 'Migration statements an upgrade applied, by script part, ALTER algorithm ("none" for other statements) and outcome',
      labelNames: ['service', 'part', 'algorithm', 'outcome'],
      registers,
    })
    this.statementDuration = new Histogram({ name: 'handover_migration_statement_duration_seconds', help: 'Duration of an applied migration statement, by script part', labelNames: ['service', 'part'], buckets: STATEMENT_BUCKETS, registers })
    this.rowsTouched = new Counter({ name: 'handover_migration_rows_touched_total', help: 'Rows migration statements changed or copied (as the server reported), by script part', labelNames: ['service', 'part'], registers })
    this.released = new Counter({ name: 'handover_upgrade_held_requests_released_total', help: 'Requests held in the buffer during an upgrade and released to a slot', labelNames: ['service', 'slot'], registers })
    this.softDrops = new Counter({ name: 'handover_soft_drops_total', help: 'Dropped columns and tables kept under a _handover_ name (made) and dropped for real later (purged)', labelNames: ['service', 'action'], registers })
    this.containers = new Counter({ name: 'handover_containers_replaced_total', help: 'Slot containers an upgrade (or its undo) recreated on another image', labelNames: ['service', 'slot'], registers })
    this.crossings = new Counter({ name: 'handover_upgrade_point_of_no_return_crossed_total', help: 'Upgrade runs that released the buffer to the new version (the point of no return)', labelNames: ['service'], registers })
    this.backupBytes = new Gauge({ name: 'handover_backup_bytes', help: "Size of a service's last pre-upgrade schema dump", labelNames: ['service'], registers })
  }

  /** A counter's series must exist at 0 before its first increment, or increase() misses that increment. */
  runStarted(service: string): void {
    this.crossings.labels(service).inc(0)
    for (const action of ['made', 'purged']) this.softDrops.labels(service, action).inc(0)
  }

  record(fact: UpgradeFact): void {
    const { service } = fact
    this.facts.labels(service, fact.type).inc()
    switch (fact.type) {
      case 'statement-applied':
        this.statements.labels(service, fact.part, fact.algorithm ?? 'none', fact.outcome).inc()
        this.statementDuration.labels(service, fact.part).observe(fact.durationSeconds)
        this.rowsTouched.labels(service, fact.part).inc(fact.rowsTouched ?? 0)
        return
      case 'requests-released':
        this.released.labels(service, fact.slot).inc(fact.released)
        // The longest hold is handover_proxy_buffer_release_longest_wait_seconds, measured by the proxy itself.
        return
      case 'soft-drop-made':
        this.softDrops.labels(service, 'made').inc()
        return
      case 'soft-drops-purged':
        this.softDrops.labels(service, 'purged').inc(fact.names.length)
        return
      case 'container-replaced':
        this.containers.labels(service, fact.slot).inc()
        return
      case 'point-of-no-return-crossed':
        this.crossings.labels(service).inc()
        return
      case 'backup-written':
        this.backupBytes.labels(service).set(fact.bytes)
        return
      default:
        // The other facts are counted by type above; they are for the journal and the CLI.
        return
    }
  }
}
