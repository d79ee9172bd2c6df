/** What the schedule tests share: the agent restarted with its log captured, and a schedule due seconds ahead. */
import { join } from 'node:path'
import { cronAt, secondsAhead } from '../../scripts/lib/cron-at.js'
import { runHandover, startAgentProcess, type AgentProcess } from '../../scripts/lib/handover-process.js'
import type { ScheduleListJson } from '../../src/cli/json-output.js'
import type { ScheduleView } from '../../src/protocol/schedules.js'
import type { TestService } from '../../scripts/lib/throwaway-service.js'

/** Stops the service's agent and starts it again on the same socket, state file and metrics port, keeping its log lines. */
export async function restartAgent(svc: TestService, current: AgentProcess, logs: string[]): Promise<AgentProcess> {
  await current.stop()
  const metricsPort = Number(new URL(current.metricsUrl).port)
  return startAgentProcess({ socket: join(svc.dir, 'agent.sock'), stateFile: join(svc.dir, 'routes.json'), metricsPort, onLog: (line) => logs.push(line) })
}

/**
 * `handover schedule add --json` for a once-a-year expression due `leadSeconds` from now, in UTC.
 * On a loaded machine the CLI can reach the agent after that second, and the agent then has it
 * due a year on: its nextRunAt tells, and the schedule is replaced by a later one (three tries).
 */
export async function addScheduleDue(configFile: string, image: string, window: string, leadSeconds: number): Promise<{ schedule: ScheduleView; due: Date }> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const due = secondsAhead(leadSeconds * attempt)
    const add = await runHandover(['schedule', 'add', '--config', configFile, '--image', image, '--cron', cronAt(due, 'UTC'), '--timezone', 'UTC', '--window', window, '--json'])
    if (add.code !== 0) throw new Error(`schedule add failed: ${add.stderr}`)
    const [schedule] = (JSON.parse(add.stdout) as ScheduleListJson).schedules
    if (schedule?.nextRunAt === due.toISOString()) return { schedule, due }
    await runHandover(['schedule', 'remove', '--config', configFile, '--id', schedule!.id])
  }
  throw new Error(`three schedules due ${leadSeconds} s ahead or more were each armed after their time`)
}
