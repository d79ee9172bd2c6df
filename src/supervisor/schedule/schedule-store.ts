/**
 * The agent's schedules on disk (schedules.json beside the route state file), written
 * atomically: a restarted agent has every schedule, the next time each was due and what
 * became of its last windows, so it can tell a window it missed while it was down.
 */
import { StateFile } from '../../runtime/state-file.js'
import { InvalidInputError } from '../../errors.js'
import { parseScheduleSpec, WINDOW_OUTCOMES, type ScheduleView, type ScheduleWindow } from '../../protocol/schedules.js'
import * as v from '../../protocol/validate.js'
import { ScheduleFileError, ScheduleWriteError } from './schedule-errors.js'

const FORMAT_VERSION = 1
/** Windows kept per schedule, newest first. */
export const KEPT_WINDOWS = 20

export class ScheduleStore {
  private readonly file: StateFile

  constructor(readonly path: string) {
    this.file = new StateFile(path)
  }

  async load(): Promise<ScheduleView[]> {
    const text = await this.file.read().catch((error: unknown) => Promise.reject(new ScheduleFileError(this.path, `cannot read: ${(error as Error).message}`)))
    if (text === undefined) return []
    try {
      const body = v.object(JSON.parse(text), 'file', ['version', 'schedules'])
      if (body.version !== FORMAT_VERSION) throw new InvalidInputError('file.version', `must be ${FORMAT_VERSION}`)
      if (!Array.isArray(body.schedules)) throw new InvalidInputError('file.schedules', 'must be an array')
      return body.schedules.map((entry, i) => parseStored(entry, `file.schedules[${i}]`))
    } catch (error) {
      if (error instanceof InvalidInputError || error instanceof SyntaxError) throw new ScheduleFileError(this.path, error.message)
      throw error
    }
  }

  save(schedules: readonly ScheduleView[]): Promise<void> {
    const text = JSON.stringify({ version: FORMAT_VERSION, schedules }, null, 2) + '\n'
    return this.file.write(text, (error) => new ScheduleWriteError(this.path, error))
  }
}

function parseStored(value: unknown, where: string): ScheduleView {
  const body = v.record(value, where)
  const { id, createdAt, nextRunAt, windows, ...spec } = body
  if (!Array.isArray(windows)) throw new InvalidInputError(`${where}.windows`, 'must be an array')
  return {
    ...parseScheduleSpec(spec, where),
    id: v.name(id, `${where}.id`),
    createdAt: v.text(createdAt, `${where}.createdAt`, 64),
    nextRunAt: nextRunAt === null ? null : v.text(nextRunAt, `${where}.nextRunAt`, 64),
    windows: windows.slice(0, KEPT_WINDOWS).map((window, i) => parseWindow(window, `${where}.windows[${i}]`)),
  }
}

function parseWindow(value: unknown, where: string): ScheduleWindow {
  const body = v.record(value, where)
  const window: ScheduleWindow = { scheduledAt: v.text(body.scheduledAt, `${where}.scheduledAt`, 64), outcome: v.oneOf(body.outcome, `${where}.outcome`, WINDOW_OUTCOMES) }
  for (const field of ['reason', 'startedAt', 'finishedAt', 'runId', 'logFile'] as const) {
    if (body[field] !== undefined) window[field] = v.text(body[field], `${where}.${field}`, 4096)
  }
  if (body.pid !== undefined) window.pid = v.integer(body.pid, `${where}.pid`, 1, 2 ** 31)
  if (body.exitCode !== undefined) window.exitCode = body.exitCode === null ? null : v.integer(body.exitCode, `${where}.exitCode`, 0, 255)
  return window
}
