/** What the schedule tests share: the agent restarted with its log captured. */
import { join } from 'node:path'
import { startAgentProcess, type AgentProcess } from '../../scripts/lib/handover-process.js'
import type { TestService } from '../../scripts/lib/throwaway-service.js'

/** Stops the service's agent and starts it again on the same socket, state file and metrics port, keeping its log lines. */
export async function restartAgent(svc: TestService, current: AgentProcess, logs: string[]): Promise<AgentProcess> {
  await current.stop()
  const metricsPort = Number(new URL(current.metricsUrl).port)
  return startAgentProcess({ socket: join(svc.dir, 'agent.sock'), stateFile: join(svc.dir, 'routes.json'), metricsPort, onLog: (line) => logs.push(line) })
}
