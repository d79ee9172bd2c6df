import { resolve } from 'node:path'
import { loadConfig } from '../../config/load-config.js'
import { InvalidInputError } from '../../errors.js'
import { AdminClient } from '../../protocol/admin-client.js'
import { parseDuration, timeZone, type ScheduleView } from '../../protocol/schedules.js'
import { checkCron } from '../../supervisor/schedule/scheduler.js'
import { parseOptions, requireOption, type Command, type Output } from '../command.js'
import { EXIT } from '../exit-codes.js'
import { printJson } from '../json-output.js'

const DEFAULT_WINDOW = '30m'

export const scheduleCommand: Command = {
  usage: `handover schedule add --config FILE --image IMAGE --cron "EXPR" --timezone ZONE [--window 30m] [--json]
handover schedule list --config FILE [--json]
handover schedule remove --config FILE --id ID

  add       the agent upgrades the config's service to IMAGE each time EXPR matches in ZONE:
            --cron     5 fields (minute hour day month weekday), or 6 with seconds first,
                       e.g. "0 3 * * 0" is Sundays at 03:00
            --timezone an IANA zone (UTC, Europe/Berlin); required, never the host's zone
            --window   how long after its time an upgrade may still start (default ${DEFAULT_WINDOW});
                       a window the agent was down for is reported as missed, not run late
  list      every schedule the agent has, its next time and what became of its last windows;
            --json prints one object (ScheduleListJson in src/cli/json-output.ts)
  remove    the schedule with this id (see list)

The agent starts the upgrade as its own process (output in scheduled-runs/ beside its state
file), never while another run of the service is unfinished (that window is skipped), and
records every outcome. The config's secrets are read by that process from the environment
or the files the config names, so the agent must have them; none is stored with the schedule.`,
  async run(args, output) {
    const [action, ...rest] = args
    if (action !== 'add' && action !== 'list' && action !== 'remove') throw new InvalidInputError('handover schedule', 'expected add, list or remove (see handover schedule --help)')
    const values = parseOptions(`schedule ${action}`, rest, {
      config: { type: 'string' },
      image: { type: 'string' },
      cron: { type: 'string' },
      timezone: { type: 'string' },
      window: { type: 'string' },
      id: { type: 'string' },
      json: { type: 'boolean' },
    })
    const configFile = resolve(requireOption(`schedule ${action}`, 'config', values.config))
    const config = loadConfig(configFile)
    const agent = new AdminClient(config.agent.socket)
    if (action === 'add') {
      const cron = requireOption('schedule add', 'cron', values.cron)
      checkCron(cron, '--cron')
      const timezone = timeZone(requireOption('schedule add', 'timezone', values.timezone), '--timezone')
      const windowSeconds = parseDuration(values.window ?? DEFAULT_WINDOW, '--window')
      const image = requireOption('schedule add', 'image', values.image)
      const schedule = await agent.addSchedule({ service: config.service.name, config: configFile, image, cron, timezone, windowSeconds })
      if (values.json) printJson(output, { schedules: [schedule] })
      else output.out(`schedule ${schedule.id}: ${schedule.service} → ${schedule.image} at "${schedule.cron}" (${schedule.timezone}), window ${schedule.windowSeconds}s; next ${schedule.nextRunAt ?? 'never'}`)
      return EXIT.OK
    }
    if (action === 'remove') {
      const id = requireOption('schedule remove', 'id', values.id)
      await agent.removeSchedule(id)
      output.out(`schedule ${id} removed`)
      return EXIT.OK
    }
    const schedules = await agent.listSchedules()
    if (values.json) printJson(output, { schedules })
    else printSchedules(output, schedules)
    return EXIT.OK
  },
}

function printSchedules(output: Output, schedules: ScheduleView[]): void {
  if (schedules.length === 0) output.out('no schedules')
  for (const schedule of schedules) {
    output.out(`${schedule.id}  ${schedule.service} → ${schedule.image}  "${schedule.cron}" ${schedule.timezone}  window ${schedule.windowSeconds}s  next ${schedule.nextRunAt ?? 'never'}`)
    for (const window of schedule.windows) {
      const run = window.runId ? ` run ${window.runId}` : ''
      output.out(`    ${window.scheduledAt}  ${window.outcome.padEnd(14)}${run}${window.reason ? `  ${window.reason}` : ''}`)
    }
  }
}
