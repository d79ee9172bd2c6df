/**
 * Counts one slot's in-flight requests and wakes whoever waits for that count to reach
 * zero. Waiters are woken by the decrement itself, never by polling, so a drain wait ends
 * the moment the last response finishes.
 */
import type { DrainResult } from '../../protocol/routes.js'

interface Waiter {
  resolve(result: DrainResult): void
  timer: NodeJS.Timeout
}

export class DrainTracker {
  private count = 0
  private readonly waiters = new Set<Waiter>()
  private drainStartedAt: number | undefined

  /** `onDrained` gets the seconds from `startDraining` until in-flight reached zero. */
  constructor(private readonly onDrained: (seconds: number) => void) {}

  get inFlight(): number {
    return this.count
  }

  begin(): void {
    this.count++
  }

  end(): void {
    if (--this.count === 0) this.settle()
  }

  startDraining(): void {
    this.drainStartedAt = performance.now()
    if (this.count === 0) this.settle()
  }

  /** The slot left `draining` (stopped or undone) before it drained: nothing to measure. */
  stopDraining(): void {
    this.drainStartedAt = undefined
  }

  wait(timeoutMs: number): Promise<DrainResult> {
    if (this.count === 0) return Promise.resolve({ drained: true, inFlight: 0 })
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter)
          resolve({ drained: false, inFlight: this.count })
        }, timeoutMs),
      }
      this.waiters.add(waiter)
    })
  }

  /** Answers every waiter with the current count (agent shutdown). */
  cancelWaits(): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer)
      waiter.resolve({ drained: this.count === 0, inFlight: this.count })
    }
    this.waiters.clear()
  }

  private settle(): void {
    if (this.drainStartedAt !== undefined) {
      this.onDrained((performance.now() - this.drainStartedAt) / 1000)
      this.drainStartedAt = undefined
    }
    if (this.waiters.size === 0) return
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer)
      waiter.resolve({ drained: true, inFlight: 0 })
    }
    this.waiters.clear()
  }
}
