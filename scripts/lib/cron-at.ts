/**
 * Cron expressions for one moment, as an SRE would type them for a maintenance window read
 * in an explicit time zone: the tests and the demo set schedules due seconds or minutes ahead.
 */

type Parts = Record<'second' | 'minute' | 'hour' | 'day' | 'month', number>

/** `at` as wall-clock fields in `timezone` (the zone the agent reads the expression in). */
function wallClock(at: Date, timezone: string): Parts {
  return Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
      .formatToParts(at)
      .map((part) => [part.type, Number(part.value)]),
  ) as Parts
}

/** A 6-field expression (seconds first) that matches `at` once a year, read in `timezone`. */
export function cronAt(at: Date, timezone: string): string {
  const p = wallClock(at, timezone)
  return `${p.second} ${p.minute} ${p.hour} ${p.day} ${p.month} *`
}

/** A 5-field expression (minute hour day month weekday) that matches the minute of `at` once a year, read in `timezone`. */
export function cronAtMinute(at: Date, timezone: string): string {
  const p = wallClock(at, timezone)
  return `${p.minute} ${p.hour} ${p.day} ${p.month} *`
}

/** The time `seconds` from now, on a whole second. */
export function secondsAhead(seconds: number): Date {
  return new Date(Math.ceil(Date.now() / 1000) * 1000 + seconds * 1000)
}

/** The start of the clock's minute `minutes` after the current one: what "the minute after next" means on a wall clock. */
export function minutesAhead(minutes: number): Date {
  return new Date(Math.floor(Date.now() / 60_000) * 60_000 + minutes * 60_000)
}
