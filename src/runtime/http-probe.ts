import http from 'node:http'
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

/** One GET with a bound; never keeps the connection (probes must not pin sockets of a slot). */
export function httpGet(url: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (response) => {
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
  /** Stops waiting early when the process behind the URL is gone. */
  stillRunning: () => Promise<boolean>
  logTail: () => Promise<string>
}

/** Polls until the URL answers 200; a readiness probe has nothing to wait on but the answer. */
export async function waitHealthy(options: WaitHealthyOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutSeconds * 1000
  let lastProblem = 'no answer yet'
  while (Date.now() < deadline) {
    try {
      const result = await httpGet(options.url, 2000)
      if (result.status === 200) return
      lastProblem = `answered ${result.status}`
    } catch (error) {
      lastProblem = (error as Error).message
    }
    if (!(await options.stillRunning())) {
      throw new SlotUnhealthyError(options.url, 'the container exited', await options.logTail())
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200))
  }
  throw new SlotUnhealthyError(options.url, `${lastProblem} after ${options.timeoutSeconds}s`, await options.logTail())
}
