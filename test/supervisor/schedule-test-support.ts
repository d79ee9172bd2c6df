/** What the schedule tests share: a cron expression for one moment, and the agent restarted with its log captured. */
import { join } from 'node:path'
import { startAgentProcess, type AgentProcess } from '../../scripts/lib/handover-process.js'
import type { TestService } from '../../scripts/lib/throwaway-service.js'

/** A 6-field expression (seconds first) that matches `at` once a year, read in `timezone`. */
export function cronAt(at: Date, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
      .formatToParts(at)
      .map((part) => [part.type, Number(part.value)]),
  ) as Record<'second' | 'minute' | 'hour' | 'day' | 'month', number>
  return `${parts.second} ${parts.minute} ${parts.hour} ${parts.day} ${parts.month} *`
}

/** The time `seconds` from now, on a whole second. */
export function secondsAhead(seconds: number): Date {
  return new Date(Math.ceil(Date.now() / 1000) * 1000 + seconds * 1000)
}

/** Stops the service's agent and starts it again on the same socket, state file and metrics port, keeping its log lines. */
export async function restartAgent(svc: TestService, current: AgentProcess, logs: string[]): Promise<AgentProcess> {
  await current.stop()
  const metricsPort = Number(new URL(current.metricsUrl).port)
  return startAgentProcess({ socket: join(svc.dir, 'agent.sock'), stateFile: join(svc.dir, 'routes.json'), metricsPort, onLog: (line) => logs.push(line) })
}
