/**
 * A real Prometheus (Debian's `prometheus`) for tests, the dashboard render and the demo: a
 * fresh data dir, a scrape config for one handover agent, the project's alert rules, a free
 * loopback port. Stopped by its own PID, never by name.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './free-port.js'
import { waitUntil } from './wait-until.js'

export const ALERT_RULES_FILE = fileURLToPath(new URL('../../deploy/prometheus/handover-alerts.yml', import.meta.url))
export const ALERT_TESTS_FILE = fileURLToPath(new URL('../../deploy/prometheus/handover-alerts.test.yml', import.meta.url))
export const AGENT_JOB = 'handover-agent'

export interface PrometheusOptions {
  /** host:port of the agent's /metrics listener. */
  agentTarget: string
  scrapeIntervalSeconds?: number
  /** Keep running after this process exits (the demo leaves it up for the SRE). */
  detached?: boolean
}

export interface PrometheusProcess {
  pid: number
  url: string
  dataDir: string
  /** SIGTERM to this PID, waits (bounded) for it to exit, removes the data dir. */
  stop(): Promise<void>
}

export interface QueryResult {
  status: 'success' | 'error'
  error?: string
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> }
}

export function prometheusConfig(agentTarget: string, scrapeIntervalSeconds: number): string {
  return `global:
  scrape_interval: ${scrapeIntervalSeconds}s
  evaluation_interval: ${scrapeIntervalSeconds}s
rule_files:
  - ${JSON.stringify(ALERT_RULES_FILE)}
scrape_configs:
  - job_name: ${AGENT_JOB}
    metrics_path: /metrics
    static_configs:
      - targets: ['${agentTarget}']
`
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'handover-prometheus-'))
  const configFile = join(dataDir, 'prometheus.yml')
  writeFileSync(configFile, prometheusConfig(options.agentTarget, options.scrapeIntervalSeconds ?? 1))
  const port = await freePort()
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dataDir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=1d',
    '--log.level=warn',
  ]
  const child = spawn('prometheus', args, { stdio: ['ignore', 'ignore', options.detached ? 'ignore' : 'pipe'], detached: options.detached ?? false })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)))
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())))
  child.once('error', () => (exited = true))
  if (options.detached) child.unref()
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGTERM')
    await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 10_000))])
    if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    await waitUntil(async () => {
      if (exited) throw new Error(`prometheus exited before it was ready: ${stderr}`)
      return (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true
    }, 30_000, `prometheus on ${url} to be ready`, 100)
  } catch (error) {
    await stop()
    throw error
  }
  return { pid: child.pid!, url, dataDir, stop }
}

/** An instant query through /api/v1/query; errors come back as status "error", not thrown. */
export async function instantQuery(url: string, expr: string, time?: number): Promise<QueryResult> {
  const params = new URLSearchParams({ query: expr, ...(time === undefined ? {} : { time: String(time) }) })
  const response = await fetch(`${url}/api/v1/query?${params}`, { signal: AbortSignal.timeout(10_000) })
  return (await response.json()) as QueryResult
}

export async function rangeQuery(url: string, expr: string, start: number, end: number, stepSeconds: number): Promise<QueryResult> {
  const params = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(stepSeconds) })
  const response = await fetch(`${url}/api/v1/query_range?${params}`, { signal: AbortSignal.timeout(10_000) })
  return (await response.json()) as QueryResult
}

/** Runs promtool with these arguments; returns its exit code and output. */
export function promtool(args: string[]): { code: number | null; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 })
  return { code: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` }
}
