/**
 * What upgrade, resume and abort share at the terminal: the event bus wired to the live
 * progress and to the agent, and the final lines and exit code of a run's report.
 */
import type { HandoverConfig } from '../config/config.js'
import { AdminClient } from '../protocol/admin-client.js'
import type { UpgradeEvent } from '../protocol/events.js'
import { LeaseRenewer } from '../supervisor/lease-renewer.js'
import { EventBus } from '../upgrade/reporting/event-bus.js'
import type { UpgradeReport } from '../upgrade/run/run-upgrade.js'
import { STRICT_PHASES } from '../upgrade/run/strict-phases.js'
import type { Output } from './command.js'
import { EXIT } from './exit-codes.js'
import { LiveProgress } from './live-progress.js'

/** systemd restarts the agent one second after it dies (deploy/systemd/handover-agent.service); this leaves room for a slow start. */
const AGENT_RESTART_WAIT_SECONDS = 30

export interface RunSession {
  proxy: AdminClient
  bus: EventBus
  note: (message: string) => void
  stop(): void
}

export function openRunSession(config: HandoverConfig, output: Output): RunSession {
  // A run outlives a restart of the agent: its calls wait for the agent to be back.
  const proxy = new AdminClient(config.agent.socket).waitingForRestart(AGENT_RESTART_WAIT_SECONDS)
  const bus = new EventBus((error, event) => output.err(`warning: could not report ${event.type} to the agent: ${(error as Error).message}`))
  const progress = new LiveProgress({
    output,
    phaseNames: STRICT_PHASES.map((phase) => phase.name),
    heldRequests: async () => (await proxy.getService(config.service.name)).buffered,
  })
  bus.subscribe(progress.onEvent, { required: false })
  bus.subscribe((event) => proxy.reportEvent(event), { required: false })
  // Renewals do not wait for a restarting agent: the next one, a second later, goes through.
  if (config.agent.takeover) bus.subscribe(leaseKeeper(config, new AdminClient(config.agent.socket, 2), output), { required: false })
  return { proxy, bus, note: (message) => progress.note(`             ${message}`), stop: () => progress.stop() }
}

/** The report's last lines; the exit code says whether an operator must act. */
export function reportExit(report: UpgradeReport, output: Output): number {
  if (report.result === 'succeeded') return EXIT.OK
  if (report.error) output.err(`error: ${report.failedPhase} failed: [${report.error.code}] ${report.error.message}`)
  if (report.result === 'rolled_back') output.err(`rolled back to ${report.from.image} (version ${report.from.version}); nothing was lost`)
  else if (report.undoError) output.err(`rollback stopped at ${report.undoError.phase}: [${report.undoError.code}] ${report.undoError.message}`)
  if (report.result === 'rolled_back') return EXIT.FAILED
  if (!report.undoError) {
    if (report.pointOfNoReturnPassed) output.err('the run is past the point of no return (v2 has served); it was not rolled back. See `handover status`.')
    else output.err('nothing was undone, because the failed phase did not stop in time; check the service by hand (`handover status`) before anything else.')
  }
  return EXIT.NEEDS_OPERATOR
}

/**
 * While a run goes on its lease is renewed, so the agent resumes it if this process dies
 * (see supervisor/run-supervisor.ts); the lease ends with the run.
 */
function leaseKeeper(config: HandoverConfig, proxy: AdminClient, output: Output): (event: UpgradeEvent) => Promise<void> {
  let renewer: LeaseRenewer | undefined
  return async (event) => {
    if (event.type === 'run-started') {
      const lease = { service: config.service.name, runId: event.runId, configFile: config.file, cwd: process.cwd(), leaseSeconds: config.agent.leaseSeconds, holderPid: process.pid }
      renewer = new LeaseRenewer(proxy, lease, (message) => output.err(`warning: ${message}`))
      await renewer.start()
    } else if (event.type === 'run-finished') {
      await renewer?.stop(true)
    }
  }
}
