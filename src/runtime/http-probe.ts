import http from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { HandoverError } from '../errors.js'

export class SlotUnhealthyError extends HandoverError {
  readonly code = 'SLOT_UNHEALTHY'

  constructor(
    readonly url: string,
    readonly lastProblem: string,
    detail: string,
  ) {
    super(`${url} did not become healthy: ${lastProblem}${detail ? `\n--- last log lines ---\n${detail}` : ''}`)
  }
}

export interface ProbeResult {
  status: number
  body: string
}

/** One GET with a bound; never keeps the connection (probes must not pin sockets of a slot). `signal` aborts it. */
export function httpGet(url: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs, headers: { connection: 'close' }, ...(signal ? { signal } : {}) }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      response.on('error', reject)
    })
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs}ms`)))
    request.on('error', reject)
  })
}

export interface WaitHealthyOptions {
  url: string
  timeoutSeconds: number
  intervalMs?: number
  /** Throws when the process behind the URL has died, so the wait ends at once with why. */
  checkAlive: () => Promise<void>
  logTail: () => Promise<string>
  signal?: AbortSignal
}

/** Polls until the URL answers 200; a readiness probe has nothing to wait on but the answer. */
export async function waitHealthy(options: WaitHealthyOptions): Promise<void> {
  const { signal } = options
  const deadline = Date.now() + options.timeoutSeconds * 1000
  const probeMs = Math.min(2000, options.timeoutSeconds * 1000)
  let lastProblem = 'no answer yet'
  while (Date.now() < deadline) {
    signal?.throwIfAborted()
    try {
      const result = await httpGet(options.url, probeMs, signal)
      if (result.status === 200) return
      lastProblem = `answered ${result.status}`
    } catch (error) {
      signal?.throwIfAborted()
      lastProblem = (error as Error).message
    }
    await options.checkAlive()
    await sleep(options.intervalMs ?? 200, undefined, signal ? { signal } : {})
  }
  throw new SlotUnhealthyError(options.url, `${lastProblem} after ${options.timeoutSeconds}s`, await options.logTail())
}
