/**
 * The agent's scheduler: one node-cron task per schedule, in the schedule's own time zone.
 * At its time a window starts `handover upgrade` as its own process (launchHandover), unless
 * another run of the service is unfinished (then it is skipped and says which run). A window
 * that passed while the agent was down is started late only while still inside its window,
 * and otherwise reported as missed, never run late. Every outcome is kept with the schedule
 * (schedules.json), logged and counted.
 */
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { createTask, validateDetailed, type ScheduledTask } from 'node-cron'
import { InvalidInputError } from '../../errors.js'
import type { ScheduleMetrics } from '../../metrics/schedule-metrics.js'
import type { UpgradeEvent } from '../../protocol/events.js'
import type { ScheduleSpec, ScheduleView, ScheduleWindow } from '../../protocol/schedules.js'
import type { Logger } from '../../proxy/log.js'
import { isAlive } from '../../runtime/process-alive.js'
import { launchHandover, type LaunchedCommand } from '../launch-handover.js'
import { ScheduleNotFoundError } from './schedule-errors.js'
import { KEPT_WINDOWS, type ScheduleStore } from './schedule-store.js'

export interface SchedulerOptions {
  store: ScheduleStore
  log: Logger
  metrics: ScheduleMetrics
  /** The run of the service in progress, as the agent knows it from reported events. */
  runningRunId(service: string): string | undefined
  /** Where each started command's output goes (one file per window). */
  logDir: string
  launch?: (args: readonly string[], options: { logFile: string; cwd: string }) => LaunchedCommand
  now?: () => number
}

export class Scheduler {
  private readonly schedules = new Map<string, ScheduleView>()
  private readonly tasks = new Map<string, ScheduledTask>()
  /** Commands this agent started and that have not exited, by service. */
  private readonly launched = new Map<string, number>()
  private readonly now: () => number

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? Date.now
  }

  /** Loads the schedules, settles the windows that passed while the agent was down, and arms each. */
  async start(): Promise<void> {
    for (const schedule of await this.options.store.load()) this.schedules.set(schedule.id, schedule)
    for (const schedule of this.schedules.values()) {
      this.settleOrphans(schedule)
      const due = schedule.nextRunAt === null ? undefined : new Date(schedule.nextRunAt)
      this.arm(schedule)
      if (due !== undefined && due.getTime() <= this.now()) this.catchUp(schedule, due)
    }
    await this.save()
  }

  list(): ScheduleView[] {
    return [...this.schedules.values()].map((schedule) => structuredClone(schedule))
  }

  /** Stored before it is armed: a schedule the agent acknowledged survives its restart. */
  async add(spec: ScheduleSpec): Promise<ScheduleView> {
    checkCron(spec.cron, 'body.cron')
    const schedule: ScheduleView = { ...spec, id: `s${randomBytes(4).toString('hex')}`, createdAt: new Date(this.now()).toISOString(), nextRunAt: null, windows: [] }
    this.schedules.set(schedule.id, schedule)
    this.arm(schedule)
    try {
      await this.save()
    } catch (error) {
      this.disarm(schedule)
      this.schedules.delete(schedule.id)
      throw error
    }
    this.options.log({ level: 'info', msg: 'schedule added', service: spec.service, schedule: schedule.id, cron: spec.cron, timezone: spec.timezone, windowSeconds: spec.windowSeconds, nextRunAt: schedule.nextRunAt })
    return structuredClone(schedule)
  }

  async remove(id: string): Promise<void> {
    const schedule = this.schedules.get(id)
    if (schedule === undefined) throw new ScheduleNotFoundError(id)
    this.disarm(schedule)
    this.schedules.delete(id)
    await this.save()
    this.options.log({ level: 'info', msg: 'schedule removed', service: schedule.service, schedule: id })
  }

  /** Upgrade events reported to the agent: a started window learns its run id, and how the run ended. */
  onEvent(event: UpgradeEvent): void {
    if (event.type !== 'run-started' && event.type !== 'run-finished') return
    for (const schedule of this.schedules.values()) {
      if (schedule.service !== event.service) continue
      const window = schedule.windows.find((w) => w.outcome === 'running' && (w.runId === undefined || w.runId === event.runId))
      if (window === undefined) continue
      window.runId = event.runId
      if (event.type === 'run-finished') this.finish(schedule, window, event.result === 'failed' ? 'needs_operator' : event.result)
      void this.save().catch((error: unknown) => this.options.log({ level: 'error', msg: 'schedule file not written', error: String(error) }))
      return
    }
  }

  close(): void {
    for (const schedule of this.schedules.values()) this.disarm(schedule)
  }

  private arm(schedule: ScheduleView): void {
    const task = createTask(schedule.cron, (context) => this.fire(schedule.id, context.date), { timezone: schedule.timezone, name: schedule.id, unref: true })
    // node-cron reports a beat it could not run on time (the event loop was blocked): that window is missed too.
    task.on('execution:missed', (context) => this.record(schedule, { scheduledAt: context.date.toISOString(), outcome: 'missed', reason: 'the agent could not run it on time (its event loop was blocked)' }))
    void task.start()
    this.tasks.set(schedule.id, task)
    this.refreshNextRun(schedule)
  }

  private disarm(schedule: ScheduleView): void {
    void this.tasks.get(schedule.id)?.destroy()
    this.tasks.delete(schedule.id)
    this.options.metrics.removed(schedule.service, schedule.id)
  }

  private refreshNextRun(schedule: ScheduleView): void {
    const next = this.tasks.get(schedule.id)?.getNextRun()
    schedule.nextRunAt = next ? next.toISOString() : null
    this.options.metrics.scheduled(schedule.service, schedule.id, schedule.nextRunAt)
  }

  /** A window due while the agent was down: started if still inside it, otherwise missed. */
  private catchUp(schedule: ScheduleView, due: Date): void {
    const lateSeconds = (this.now() - due.getTime()) / 1000
    if (this.now() < due.getTime() + schedule.windowSeconds * 1000) return void this.fire(schedule.id, due, `started ${lateSeconds.toFixed(0)}s late, inside its ${schedule.windowSeconds}s window: the agent was not running at the time`)
    this.record(schedule, { scheduledAt: due.toISOString(), outcome: 'missed', reason: `the agent was not running between ${due.toISOString()} and the end of the ${schedule.windowSeconds}s window; not run late (later windows until ${new Date(this.now()).toISOString()} were missed too, if the expression had any)` })
  }

  /** Windows recorded as running whose process ended while the agent was down: how they ended is in the journal, not here. */
  private settleOrphans(schedule: ScheduleView): void {
    for (const window of schedule.windows) {
      if (window.outcome !== 'running' || (window.pid !== undefined && isAlive(window.pid))) continue
      this.finish(schedule, window, 'unknown', 'its process ended while the agent was not running: see `handover history`')
    }
  }

  private fire(id: string, scheduledAt: Date, late?: string): void {
    const schedule = this.schedules.get(id)
    if (schedule === undefined) return
    this.refreshNextRun(schedule)
    const busy = this.busyWith(schedule.service)
    if (busy !== undefined) return this.record(schedule, { scheduledAt: scheduledAt.toISOString(), outcome: 'skipped', reason: busy })
    const logFile = join(this.options.logDir, `${schedule.service}-${scheduledAt.toISOString().replace(/[:.]/g, '-')}.log`)
    // Only names and paths: the command reads its secrets from the environment or the files its config names.
    const args = ['upgrade', '--config', schedule.config, '--image', schedule.image]
    let child: LaunchedCommand
    try {
      child = (this.options.launch ?? launchHandover)(args, { logFile, cwd: dirname(schedule.config) })
    } catch (error) {
      return this.record(schedule, { scheduledAt: scheduledAt.toISOString(), outcome: 'failed', reason: `could not start handover upgrade: ${(error as Error).message}` })
    }
    this.launched.set(schedule.service, child.pid)
    const window: ScheduleWindow = { scheduledAt: scheduledAt.toISOString(), outcome: 'running', startedAt: new Date(this.now()).toISOString(), pid: child.pid, logFile, ...(late ? { reason: late } : {}) }
    this.record(schedule, window)
    void child.exited.then((code) => this.exited(schedule, window, code))
  }

  private busyWith(service: string): string | undefined {
    const pid = this.launched.get(service)
    if (pid !== undefined && isAlive(pid)) return `a scheduled upgrade of ${service} (pid ${pid}) is still running`
    const runId = this.options.runningRunId(service)
    if (runId !== undefined) return `run ${runId} of ${service} is unfinished`
    return undefined
  }

  private exited(schedule: ScheduleView, window: ScheduleWindow, code: number | null): void {
    if (this.launched.get(schedule.service) === window.pid) this.launched.delete(schedule.service)
    window.exitCode = code
    if (window.outcome === 'running') {
      if (code === 0) this.finish(schedule, window, 'succeeded')
      else if (code === 3) this.finish(schedule, window, 'needs_operator')
      else if (window.runId === undefined) this.finish(schedule, window, 'failed', `handover upgrade exited ${code ?? 'on a signal'} before starting a run (another run unfinished, a bad config, a missing image): see ${window.logFile}`)
      else this.finish(schedule, window, code === 1 ? 'rolled_back' : 'failed')
    }
    void this.save().catch((error: unknown) => this.options.log({ level: 'error', msg: 'schedule file not written', error: String(error) }))
  }

  private finish(schedule: ScheduleView, window: ScheduleWindow, outcome: Exclude<ScheduleWindow['outcome'], 'running' | 'missed' | 'skipped'>, reason?: string): void {
    window.outcome = outcome
    window.finishedAt = new Date(this.now()).toISOString()
    if (reason !== undefined) window.reason = reason
    this.options.metrics.count(schedule.service, schedule.id, outcome)
    const level = outcome === 'succeeded' ? 'info' : 'error'
    this.options.log({ level, msg: 'scheduled upgrade finished', service: schedule.service, schedule: schedule.id, scheduledAt: window.scheduledAt, outcome, exitCode: window.exitCode, ...(window.runId ? { runId: window.runId } : {}), ...(reason ? { reason } : {}) })
  }

  /** A new window: kept (newest first), logged, counted and saved. */
  private record(schedule: ScheduleView, window: ScheduleWindow): void {
    schedule.windows.unshift(window)
    schedule.windows.length = Math.min(schedule.windows.length, KEPT_WINDOWS)
    const counted = window.outcome === 'running' ? 'started' : window.outcome
    if (counted === 'started' || counted === 'missed' || counted === 'skipped' || counted === 'failed') this.options.metrics.count(schedule.service, schedule.id, counted)
    const level = window.outcome === 'running' ? 'info' : 'warn'
    const msg = window.outcome === 'running' ? 'scheduled upgrade started' : `scheduled window ${window.outcome}`
    this.options.log({ level, msg, service: schedule.service, schedule: schedule.id, scheduledAt: window.scheduledAt, ...(window.pid ? { pid: window.pid, logFile: window.logFile } : {}), ...(window.reason ? { reason: window.reason } : {}) })
    void this.save().catch((error: unknown) => this.options.log({ level: 'error', msg: 'schedule file not written', error: String(error) }))
  }

  private save(): Promise<void> {
    return this.options.store.save([...this.schedules.values()])
  }
}

/** A clear error naming the field, before anything is stored. */
export function checkCron(cron: string, where: string): void {
  const check = validateDetailed(cron)
  if (check.valid) return
  const problems = check.errors.map((error) => `${error.field}${error.value === undefined ? '' : ` "${error.value}"`}: ${error.message}`).join('; ')
  throw new InvalidInputError(where, `"${cron}" is not a cron expression (${problems || 'expected 5 fields, or 6 with seconds first'})`)
}
