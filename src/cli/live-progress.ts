/**
 * Progress of an upgrade for a person at a terminal: the finished phases as lines (the
 * progress printer's), under them one status line redrawn in place with the running phase,
 * its elapsed time and the requests held in the proxy's buffer. When stdout is not a terminal
 * (CI, a pipe, a log file) nothing is redrawn: only the plain lines are written.
 */
import type { UpgradeEvent } from '../protocol/events.js'
import type { Output } from './command.js'
import { progressPrinter } from './progress-printer.js'

export interface LiveProgressOptions {
  output: Output
  phaseNames: readonly string[]
  /** Requests held in the service's buffer now (the agent's admin API); polled on a terminal only. */
  heldRequests?: () => Promise<number>
  now?: () => number
  redrawMs?: number
}

const CLEAR_LINE = '\r\x1b[2K'

export class LiveProgress {
  private readonly live: boolean
  private readonly plain: (event: UpgradeEvent) => void
  private readonly now: () => number
  private timer: NodeJS.Timeout | undefined
  private phase: { name: string; startedAt: number } | undefined
  private runStartedAt: number | undefined
  private held: number | undefined
  private polling = false
  private drawn = false

  constructor(private readonly options: LiveProgressOptions) {
    this.live = options.output.isTTY === true && options.output.write !== undefined
    this.now = options.now ?? Date.now
    const permanent: Output = { out: (line) => this.permanent(line), err: (line) => this.permanent(line, true) }
    this.plain = progressPrinter(permanent, options.phaseNames)
  }

  /** Subscribe this to the run's event bus. */
  readonly onEvent = (event: UpgradeEvent): void => {
    if (event.type === 'run-started') this.runStartedAt = this.now()
    if (event.type === 'phase-started') this.phase = { name: event.phase, startedAt: this.now() }
    if (event.type === 'phase-completed' || event.type === 'phase-failed' || event.type === 'phase-undone') this.phase = undefined
    this.plain(event)
    if (event.type === 'run-finished') return this.stop()
    if (this.live && this.phase !== undefined) this.start()
    this.draw()
  }

  /** A line that stays (a phase's note, a warning). */
  readonly note = (line: string): void => this.permanent(line)

  /** Stops redrawing and clears the status line; safe to call more than once. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    this.clear()
  }

  /** The status line as drawn now, e.g. "  [ 6/10] flip  3.2s  (run 12.5s)  held 42". */
  statusLine(): string {
    if (this.phase === undefined) return ''
    const index = this.options.phaseNames.indexOf(this.phase.name) + 1
    const elapsed = ((this.now() - this.phase.startedAt) / 1000).toFixed(1)
    const run = this.runStartedAt === undefined ? '' : `  (run ${((this.now() - this.runStartedAt) / 1000).toFixed(1)}s)`
    const held = this.held === undefined ? '' : `  held ${this.held}`
    return `  [${String(index).padStart(2)}/${this.options.phaseNames.length}] ${this.phase.name} ${elapsed}s${run}${held}`
  }

  private start(): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => {
      this.poll()
      this.draw()
    }, this.options.redrawMs ?? 250)
    this.timer.unref()
  }

  private poll(): void {
    if (this.polling || this.options.heldRequests === undefined) return
    this.polling = true
    this.options.heldRequests().then(
      (held) => ((this.held = held), (this.polling = false)),
      () => ((this.held = undefined), (this.polling = false)),
    )
  }

  private permanent(line: string, toStderr = false): void {
    this.clear()
    if (toStderr) this.options.output.err(line)
    else this.options.output.out(line)
    this.draw()
  }

  private draw(): void {
    if (!this.live) return
    const line = this.statusLine()
    if (line === '') return this.clear()
    this.options.output.write!(`${CLEAR_LINE}${line}`)
    this.drawn = true
  }

  private clear(): void {
    if (!this.live || !this.drawn) return
    this.options.output.write!(CLEAR_LINE)
    this.drawn = false
  }
}
