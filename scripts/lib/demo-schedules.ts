/**
 * The scheduled part of `make demo`, through the real CLI and the real agent: a window that
 * passes while the agent is down is reported missed and not run, and a schedule set for the
 * clock's minute after next starts the upgrade itself. Each step prints the command it runs.
 */
import type { ScheduleListJson } from '../../src/cli/json-output.js'
import type { ScheduleView, ScheduleWindow } from '../../src/protocol/schedules.js'
import { cronAt, cronAtMinute, minutesAhead, secondsAhead } from './cron-at.js'
import { runHandover } from './handover-process.js'
import { waitUntil } from './wait-until.js'

/** Read in a zone other than UTC on purpose: the expression means this zone's wall clock. */
export const DEMO_TIMEZONE = 'Europe/Berlin'
/** How far ahead the missed window is set, and how long it stays open: the agent is down for both. */
const MISSED_DUE_SECONDS = 8
const MISSED_WINDOW_SECONDS = 5

export interface DemoSchedules {
  configFile: string
  say: (line: string) => void
  /** Runs a handover command, printing it and its output; fails the demo when it exits non-zero. */
  handover: (args: string[]) => Promise<{ code: number | null; stdout: string }>
}

/** Schedules of the demo service left by an earlier demo would fire again: removed before anything else. */
export async function removeSchedules(demo: DemoSchedules): Promise<void> {
  for (const schedule of await listSchedules(demo.configFile)) await demo.handover(['schedule', 'remove', '--config', demo.configFile, '--id', schedule.id])
}

/**
 * Adds a schedule due in a few seconds, stops the agent over its whole window (`restart`
 * stops it before `due`, waits for `until`, and starts it again) and returns the window the
 * agent then reports: missed, with its reason, and no run started.
 */
export async function missedWindow(demo: DemoSchedules, image: string, restart: (due: Date, until: Date) => Promise<void>): Promise<ScheduleWindow | undefined> {
  // A once-a-year expression the agent arms after its second waits a year (a slow start of
  // the CLI on a loaded machine): its nextRunAt tells, and a later one replaces it.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const due = secondsAhead(MISSED_DUE_SECONDS)
    const schedule = await add(demo, image, cronAt(due, DEMO_TIMEZONE), `${MISSED_WINDOW_SECONDS}s`)
    if (schedule.nextRunAt !== due.toISOString()) {
      await demo.handover(['schedule', 'remove', '--config', demo.configFile, '--id', schedule.id])
      continue
    }
    await restart(due, new Date(due.getTime() + (MISSED_WINDOW_SECONDS + 1) * 1000))
    await demo.handover(['schedule', 'list', '--config', demo.configFile])
    return (await listSchedules(demo.configFile)).find((s) => s.id === schedule.id)?.windows[0]
  }
  throw new Error('three schedules were each armed after their time: the machine is too loaded for the demo now')
}


/** Adds a schedule for the clock's minute after next (60 to 120 s ahead) and returns it with its due time. */
export async function upgradeSchedule(demo: DemoSchedules, image: string): Promise<{ schedule: ScheduleView; due: Date }> {
  const due = minutesAhead(2)
  const schedule = await add(demo, image, cronAtMinute(due, DEMO_TIMEZONE), '10m')
  if (schedule.nextRunAt !== due.toISOString()) throw new Error(`the agent says ${schedule.id} is next due ${schedule.nextRunAt}, not ${due.toISOString()}`)
  return { schedule, due }
}

/** Waits (bounded) until the agent reports the window started at `due` and its run's id, and returns it. */
export async function startedWindow(configFile: string, scheduleId: string, due: Date): Promise<ScheduleWindow> {
  let window: ScheduleWindow | undefined
  await waitUntil(
    async () => {
      window = (await listSchedules(configFile)).find((s) => s.id === scheduleId)?.windows.find((w) => w.scheduledAt === due.toISOString())
      return window?.runId !== undefined || (window !== undefined && window.outcome !== 'running')
    },
    Math.max(0, due.getTime() - Date.now()) + 30_000,
    `the agent to start the window due ${due.toISOString()}`,
    500,
  )
  return window!
}

export async function listSchedules(configFile: string): Promise<ScheduleView[]> {
  const list = await runHandover(['schedule', 'list', '--config', configFile, '--json'])
  if (list.code !== 0) throw new Error(`handover schedule list exited with ${list.code}: ${list.stderr}`)
  return (JSON.parse(list.stdout) as ScheduleListJson).schedules
}

async function add(demo: DemoSchedules, image: string, cron: string, window: string): Promise<ScheduleView> {
  const added = await demo.handover(['schedule', 'add', '--config', demo.configFile, '--image', image, '--cron', cron, '--timezone', DEMO_TIMEZONE, '--window', window])
  const id = /^schedule (s[0-9a-f]+):/.exec(added.stdout)?.[1]
  const schedule = (await listSchedules(demo.configFile)).find((s) => s.id === id)
  if (schedule === undefined) throw new Error(`schedule add printed no id the agent lists: ${added.stdout}`)
  return schedule
}
