/**
 * Whether a slot should get traffic, from two sources:
 * - passive: consecutive failures to connect to the slot (refused, unreachable) mark it
 *   unhealthy; without active checks it is tried again after a cool-down, like nginx's
 *   max_fails/fail_timeout;
 * - active (when the route names a health path): a GET every interval, bounded by a timeout;
 *   `unhealthyThreshold` failures in a row mark it unhealthy, `healthyThreshold` successes
 *   in a row bring it back.
 * The service skips an unhealthy active slot while another active slot is healthy.
 */
import http from 'node:http'
import type { HealthCheck } from '../../protocol/routes.js'

export const PASSIVE_FAILURES = 3
export const PASSIVE_COOL_DOWN_MS = 5000

export interface HealthTarget {
  readonly host: string
  readonly port: number
}

export class SlotHealth {
  private up = true
  private connectFailures = 0
  private activeFailures = 0
  private activeSuccesses = 0
  private coolDown: NodeJS.Timeout | undefined
  private checker: NodeJS.Timeout | undefined
  private probe: http.ClientRequest | undefined

  /** `changed(healthy, why)` runs on every flip between healthy and unhealthy. */
  constructor(
    private readonly target: HealthTarget,
    private readonly changed: (healthy: boolean, why: string) => void,
  ) {}

  get healthy(): boolean {
    return this.up
  }

  connected(): void {
    this.connectFailures = 0
  }

  connectFailed(code: string): void {
    if (++this.connectFailures < PASSIVE_FAILURES || !this.up) return
    this.set(false, `${this.connectFailures} connection attempts failed in a row (${code})`)
    if (this.checker !== undefined) return
    clearTimeout(this.coolDown)
    this.coolDown = setTimeout(() => {
      this.connectFailures = 0
      this.set(true, 'passive cool-down over; trying again')
    }, PASSIVE_COOL_DOWN_MS)
    this.coolDown.unref()
  }

  /** Starts (or restarts with new settings) the periodic GET; none when `check` is undefined. */
  configure(check: HealthCheck | undefined): void {
    this.stopChecks()
    if (check === undefined) return
    this.activeFailures = 0
    this.activeSuccesses = 0
    this.checker = setInterval(() => this.runCheck(check), check.intervalSeconds * 1000)
    this.checker.unref()
  }

  /** A fresh container behind the slot: forget what the old one did. */
  reset(): void {
    this.connectFailures = 0
    clearTimeout(this.coolDown)
    this.set(true, 'slot reset')
  }

  close(): void {
    this.stopChecks()
    clearTimeout(this.coolDown)
  }

  private stopChecks(): void {
    clearInterval(this.checker)
    this.checker = undefined
    this.probe?.destroy()
    this.probe = undefined
  }

  private runCheck(check: HealthCheck): void {
    if (this.probe !== undefined) return
    const request = http.request({ host: this.target.host, port: this.target.port, path: check.path, method: 'GET', agent: false, timeout: check.timeoutSeconds * 1000 })
    this.probe = request
    const done = (ok: boolean, why: string): void => {
      if (this.probe !== request) return
      this.probe = undefined
      request.destroy()
      this.checked(check, ok, why)
    }
    request.on('response', (response) => {
      response.resume()
      const status = response.statusCode ?? 0
      done(status >= 200 && status < 400, `GET ${check.path} answered ${status}`)
    })
    request.on('timeout', () => done(false, `GET ${check.path} took longer than ${check.timeoutSeconds}s`))
    request.on('error', (error: NodeJS.ErrnoException) => done(false, `GET ${check.path} failed: ${error.code ?? error.message}`))
    request.end()
  }

  private checked(check: HealthCheck, ok: boolean, why: string): void {
    if (ok) {
      this.activeFailures = 0
      if (++this.activeSuccesses >= check.healthyThreshold) {
        this.connectFailures = 0
        this.set(true, why)
      }
    } else {
      this.activeSuccesses = 0
      if (++this.activeFailures >= check.unhealthyThreshold) this.set(false, why)
    }
  }

  private set(healthy: boolean, why: string): void {
    if (this.up === healthy) return
    this.up = healthy
    this.changed(healthy, why)
  }
}
