/**
 * Latency at a fixed, moderate request rate, from h2load (nghttp2-client) over HTTP/1.1:
 * each connection sends `rate` requests per second whatever the answers' pace, so every
 * target gets the same offered load (wrk keeps N requests in flight instead, and a faster
 * target is then simply loaded harder). h2load prints no percentiles; its per-request log
 * does, and is read here.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ensureInstalled } from './targets.js'

const run = promisify(execFile)

export interface FixedRateOptions {
  connections: number
  /** Requests per second per connection. */
  rate: number
  seconds: number
}

/** Runs h2load once; returns each request's latency in ms, or throws if any request failed. */
export async function fixedRateLatencies(url: string, options: FixedRateOptions): Promise<number[]> {
  ensureInstalled('h2load', 'nghttp2-client')
  const dir = mkdtempSync(join(tmpdir(), 'hov-h2load-'))
  const log = join(dir, 'requests.tsv')
  try {
    const args = ['--h1', `-c${options.connections}`, `--rps=${options.rate}`, `-D${options.seconds}`, '--warm-up-time=1', `--log-file=${log}`, url]
    await run('h2load', args, { timeout: (options.seconds + 30) * 1000 })
    const latencies: number[] = []
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      if (line === '') continue
      const [, status, micros] = line.split('\t')
      if (status !== '200') throw new Error(`h2load: a request to ${url} answered ${status}`)
      latencies.push(Number(micros) / 1000)
    }
    if (latencies.length === 0) throw new Error(`h2load logged no request to ${url}`)
    return latencies
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
