/** Runs wrk (keep-alive, bounded duration) and reads requests/s and p50/p99 from its --latency report. */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface WrkResult {
  rps: number
  p50Ms: number
  p99Ms: number
  errors: number
}

export interface WrkOptions {
  threads: number
  connections: number
  seconds: number
}

export async function wrk(url: string, options: WrkOptions): Promise<WrkResult> {
  const args = [`-t${options.threads}`, `-c${options.connections}`, `-d${options.seconds}s`, '--latency', url]
  const { stdout } = await run('wrk', args, { timeout: (options.seconds + 30) * 1000 })
  return {
    rps: number(stdout, /Requests\/sec:\s+([\d.]+)/),
    p50Ms: latencyMs(stdout, '50%'),
    p99Ms: latencyMs(stdout, '99%'),
    errors: errors(stdout),
  }
}

function number(text: string, pattern: RegExp): number {
  const match = pattern.exec(text)
  if (match === null) throw new Error(`wrk output has no ${pattern}: ${text}`)
  return Number(match[1])
}

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000 }

function latencyMs(text: string, percentile: string): number {
  const match = new RegExp(`^\\s*${percentile}\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text)
  if (match === null) throw new Error(`wrk output has no ${percentile} latency: ${text}`)
  return Number(match[1]) * UNIT_MS[match[2]!]!
}

/** Socket errors plus non-2xx/3xx answers: a bench with errors measured the wrong thing. */
function errors(text: string): number {
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text)
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text)
  const sum = socket === null ? 0 : socket.slice(1).reduce((total, n) => total + Number(n), 0)
  return sum + (non2xx === null ? 0 : Number(non2xx[1]))
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  // An even count has two middles: their mean, not the upper one.
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
