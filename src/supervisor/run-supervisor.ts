/**
 * Keeps runs going when their runner dies. Every runner renews its run's lease through the
 * admin API; a lease that lapses means the runner is gone (SIGKILL, a closed SSH session,
 * an OOM kill, a crashed operator box), and the agent launches `handover resume` for the run
 * within one tick. The resume takes the service lock in MariaDB first, so a runner that was
 * only slow, not dead, is never run twice: the takeover is refused and the lease goes on.
 */
import { join } from 'node:path'
import { Counter, type Registry } from 'prom-client'
import type { Logger } from '../proxy/log.js'
import { HOLDING_LEASE_SECONDS, type RunLease, type WatchedRun } from '../protocol/run-leases.js'
import { launchHandover, type LaunchedCommand } from './launch-handover.js'
import { WatchedRunStore, type StoredRun } from './watched-run-store.js'

/** Takeovers of one run that may end without finishing it before the agent gives up and says so. */
export const MAX_TAKEOVERS = 5
const TICK_MS = 250

export interface SupervisorOptions {
  /** Where watched runs are kept (runs.json) and takeover output goes (runs/<run id>.log). */
  stateDir: string
  registry: Registry
  log: Logger
  launch?: (args: readonly string[], options: { logFile: string; cwd: string }) => LaunchedCommand
  now?: () => number
  /** Whether the service's requests are held now: its runs then get HOLDING_LEASE_SECONDS. */
  holding?: (service: string) => boolean
}

interface Watched extends StoredRun {
  renewedAtMs: number
  /** Who renewed last; a renewal by another process than the takeover means the runner lives. */
  renewedBy?: number
  takeover?: { pid: number; logFile: string }
  lastExit?: number | null
}

/** How a takeover ended, as handover_run_takeovers_total counts it. */
const TAKEOVER_OUTCOMES = ['finished', 'ended', 'failed', 'gave-up'] as const

export class RunSupervisor {
  private readonly runs = new Map<string, Watched>()
  private readonly store: WatchedRunStore
  private readonly takeovers: Counter<'service' | 'outcome'>
  private readonly now: () => number
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly options: SupervisorOptions) {
    this.store = new WatchedRunStore(join(options.stateDir, 'runs.json'))
    this.now = options.now ?? Date.now
    this.takeovers = new Counter({
      name: 'handover_run_takeovers_total',
      help: 'Resumes the agent launched for runs whose runner stopped renewing its lease, by how they ended',
      labelNames: ['service', 'outcome'],
      registers: [options.registry],
    })
  }

  /** Watches the runs saved before a restart; each gets a full lease from now, so a runner still alive can renew. */
  async start(): Promise<void> {
    for (const run of await this.store.load()) this.runs.set(run.runId, { ...run, renewedAtMs: this.now() })
    this.timer = setInterval(() => this.tick(), TICK_MS)
    this.timer.unref()
  }

  /** Stops watching; settles once the watched runs are saved. */
  stop(): Promise<void> {
    clearInterval(this.timer)
    return this.store.flushed()
  }

  /** A runner's renewal; the first one starts the watch. */
  async renew(lease: RunLease): Promise<WatchedRun> {
    const known = this.runs.get(lease.runId)
    const { holderPid, ...rest } = lease
    const run: Watched = { ...rest, takeovers: known?.takeovers ?? 0, gaveUp: false, renewedAtMs: this.now(), ...(holderPid === undefined ? {} : { renewedBy: holderPid }), ...(known?.takeover ? { takeover: known.takeover } : {}) }
    this.runs.set(lease.runId, run)
    // Every outcome's series exists from the service's first watched run, so an alert's increase() sees the first give-up.
    if (!known) for (const outcome of TAKEOVER_OUTCOMES) this.takeovers.labels(lease.service, outcome).inc(0)
    if (!known || known.gaveUp || known.leaseSeconds !== lease.leaseSeconds) await this.save()
    return this.view(run)
  }

  /** The runner finished the run (or gave it back to an operator): nothing to watch. */
  async finish(runId: string): Promise<boolean> {
    const known = this.runs.delete(runId)
    if (known) await this.save()
    return known
  }

  list(): WatchedRun[] {
    return [...this.runs.values()].map((run) => this.view(run))
  }

  /** Exposed for tests: one pass over the watched runs. */
  tick(): void {
    for (const run of this.runs.values()) {
      if (run.gaveUp || run.takeover || this.now() - run.renewedAtMs < this.leaseMs(run)) continue
      this.takeOver(run)
    }
  }

  private takeOver(run: Watched): void {
    if (run.takeovers >= MAX_TAKEOVERS) {
      run.gaveUp = true
      this.options.log({ level: 'error', msg: 'run takeover given up', service: run.service, runId: run.runId, takeovers: run.takeovers, lastExit: run.lastExit, action: `see ${this.logFile(run)}; then handover status / resume / abort --config ${run.configFile}` })
      this.takeovers.inc({ service: run.service, outcome: 'gave-up' })
      void this.save().catch((error: unknown) => this.options.log({ level: 'error', msg: 'cannot save watched runs', error: (error as Error).message }))
      return
    }
    run.takeovers++
    const logFile = this.logFile(run)
    const launch = this.options.launch ?? launchHandover
    const launched = launch(['resume', '--config', run.configFile, '--run', run.runId], { logFile, cwd: run.cwd })
    run.takeover = { pid: launched.pid, logFile }
    this.options.log({ level: 'warn', msg: 'runner stopped renewing its lease: resuming the run', service: run.service, runId: run.runId, silentForMs: this.now() - run.renewedAtMs, pid: launched.pid, logFile, takeover: run.takeovers })
    void this.save().catch(() => undefined)
    void launched.exited.then((code) => this.takeoverEnded(run.service, run.runId, launched.pid, code))
  }

  private takeoverEnded(service: string, runId: string, pid: number, code: number | null): void {
    const run = this.runs.get(runId)
    if (!run || run.takeover?.pid !== pid) {
      // The resume ended the run, and with it the lease: finished (0), rolled back (1) or left to an operator (3).
      this.takeovers.inc({ service, outcome: code === 0 ? 'finished' : 'ended' })
      return
    }
    delete run.takeover
    run.lastExit = code
    // The runner renewed while the takeover ran: it was slow, not dead, and the takeover was
    // refused (LOCK_HELD). That does not count towards giving up.
    if (run.renewedBy !== undefined && run.renewedBy !== pid && run.renewedAtMs > this.now() - this.leaseMs(run)) run.takeovers--
    else run.renewedAtMs = this.now()
    this.takeovers.inc({ service, outcome: 'failed' })
    this.options.log({ level: 'warn', msg: 'run takeover ended without finishing the run', service: run.service, runId, exitCode: code, logFile: this.logFile(run), takeovers: run.takeovers })
  }

  private leaseMs(run: Watched): number {
    const held = this.options.holding?.(run.service) === true
    return (held ? Math.min(run.leaseSeconds, HOLDING_LEASE_SECONDS) : run.leaseSeconds) * 1000
  }

  private logFile(run: RunLease): string {
    return join(this.options.stateDir, 'runs', `${run.runId}.log`)
  }

  private view(run: Watched): WatchedRun {
    const state = run.gaveUp ? 'gave-up' : run.takeover ? 'taking-over' : 'leased'
    return {
      service: run.service,
      runId: run.runId,
      configFile: run.configFile,
      cwd: run.cwd,
      leaseSeconds: run.leaseSeconds,
      state,
      renewedAt: new Date(run.renewedAtMs).toISOString(),
      takeovers: run.takeovers,
      ...(run.takeover ? { takeoverPid: run.takeover.pid, logFile: run.takeover.logFile } : {}),
      ...(run.lastExit !== undefined ? { lastExit: run.lastExit } : {}),
    }
  }

  private save(): Promise<void> {
    return this.store.save([...this.runs.values()].map(({ runId, service, configFile, cwd, leaseSeconds, takeovers, gaveUp }) => ({ runId, service, configFile, cwd, leaseSeconds, takeovers, gaveUp })))
  }
}
