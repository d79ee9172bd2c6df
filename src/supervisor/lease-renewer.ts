import type { AdminClient } from '../protocol/admin-client.js'
import { RUN_RENEW_INTERVAL_MS, type RunLease } from '../protocol/run-leases.js'

/**
 * The runner's side of a run lease: renews it every second while the run goes on, and ends
 * it when the run ends. A renewal the agent does not take (it restarts, say) is retried on
 * the next tick; only the first failure of a streak is reported, so a restart does not flood
 * the terminal.
 */
export class LeaseRenewer {
  private timer: NodeJS.Timeout | undefined
  private failing = false

  constructor(
    private readonly agent: Pick<AdminClient, 'renewRun' | 'finishRun'>,
    private readonly lease: RunLease,
    private readonly warn: (message: string) => void,
  ) {}

  async start(): Promise<void> {
    await this.renew()
    this.timer = setInterval(() => void this.renew(), RUN_RENEW_INTERVAL_MS)
    // The lease must never keep a finished command alive.
    this.timer.unref()
  }

  /** Stops renewing; `finished` also tells the agent to stop watching (the run ended). */
  async stop(finished: boolean): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    if (finished) await this.agent.finishRun(this.lease.runId).catch((error: unknown) => this.warn(`could not end run ${this.lease.runId}'s lease with the agent: ${(error as Error).message}`))
  }

  private async renew(): Promise<void> {
    try {
      await this.agent.renewRun(this.lease)
      this.failing = false
    } catch (error) {
      if (!this.failing) this.warn(`could not renew run ${this.lease.runId}'s lease with the agent (retrying every second): ${(error as Error).message}`)
      this.failing = true
    }
  }
}
