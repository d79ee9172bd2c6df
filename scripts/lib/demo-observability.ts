/**
 * The end of `make demo`: where the dashboard is, and the Prometheus queries that show the
 * run just done, with their values when the demo's own Prometheus scraped it.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { instantQuery, startPrometheus } from './prometheus-process.js'

export const DASHBOARD_JSON = fileURLToPath(new URL('../../deploy/grafana/handover-dashboard.json', import.meta.url))
export const DASHBOARD_PNG = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url))
const PROVISIONING = fileURLToPath(new URL('../../deploy/grafana/provisioning/', import.meta.url))
const SCRAPE_CONFIG = fileURLToPath(new URL('../../deploy/prometheus/prometheus.yml', import.meta.url))
const STATE_FILE = '/run/handover/demo-prometheus.json'

export interface DemoPrometheus {
  pid: number
  url: string
}

/**
 * A Prometheus scraping the demo agent every second, left running after the demo like the
 * agent; one from an earlier demo is reused while it answers. Undefined when Debian's
 * prometheus is not installed (scripts/setup-env.sh installs it).
 */
export async function ensureDemoPrometheus(agentTarget: string, say: (line: string) => void): Promise<DemoPrometheus | undefined> {
  if (spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status !== 0) {
    say('== prometheus: not installed (bash scripts/setup-env.sh installs it); the queries below are for yours')
    return undefined
  }
  if (existsSync(STATE_FILE)) {
    const earlier = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as DemoPrometheus
    const ready = await fetch(`${earlier.url}/-/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false)
    if (ready) {
      say(`== prometheus: already running on ${earlier.url} (pid ${earlier.pid})`)
      return earlier
    }
  }
  const started = await startPrometheus({ agentTarget, scrapeIntervalSeconds: 1, detached: true })
  const running = { pid: started.pid, url: started.url }
  mkdirSync(dirname(STATE_FILE), { recursive: true })
  writeFileSync(STATE_FILE, JSON.stringify(running))
  say(`== prometheus: started, pid ${running.pid}, ${running.url}, scraping ${agentTarget} every second (data in ${started.dataDir})`)
  return running
}

/** The queries that show one service's last run; `[10m]` covers a demo run. */
export function runQueries(service: string): Array<{ what: string; expr: string }> {
  const s = `service="${service}"`
  return [
    { what: 'phase durations (s)', expr: `handover_upgrade_phase_duration_seconds_sum{${s},result="completed"}` },
    { what: 'runs by result', expr: `handover_upgrades_total{${s}}` },
    { what: 'requests held in the buffer (all releases)', expr: `handover_proxy_buffer_wait_seconds_count{${s}}` },
    { what: 'longest hold of the release (s)', expr: `handover_proxy_buffer_release_longest_wait_seconds{${s}}` },
    { what: 'requests by slot and status, last 10 min', expr: `sum by (slot, code) (increase(handover_proxy_requests_total{${s}}[10m]))` },
    { what: 'p99 latency per slot, last 10 min (s)', expr: `histogram_quantile(0.99, sum by (slot, le) (rate(handover_proxy_request_duration_seconds_bucket{${s}}[10m])))` },
    { what: 'drain time per slot (s)', expr: `handover_proxy_drain_duration_seconds_sum{${s}}` },
    { what: 'schema version', expr: `handover_schema_version_info{${s}}` },
    { what: 'scheduled windows by outcome (the missed one, the one that upgraded)', expr: `sum by (outcome) (handover_scheduled_windows_total{${s}}) > 0` },
    { what: 'alerts firing', expr: 'ALERTS{alertstate="firing"}' },
  ]
}

export async function printObservability(say: (line: string) => void, service: string, runId: string | undefined, prometheus: DemoPrometheus | undefined): Promise<void> {
  say('\n== watch it')
  say(`dashboard: ${DASHBOARD_JSON} (Grafana provisioning: ${PROVISIONING}; a render: ${DASHBOARD_PNG})`)
  say(`alert rules and scrape config: ${SCRAPE_CONFIG} and handover-alerts.yml beside it`)
  say(`run ${runId ?? '(unknown)'}; the agent's log lines of it: grep '"runId":"${runId ?? ''}"' /var/log/handover-demo-agent.log`)
  if (prometheus) {
    // Two scrapes after the run, so its last events are in.
    await new Promise((resolve) => setTimeout(resolve, 2500))
    say(`Prometheus ${prometheus.url} (pid ${prometheus.pid} keeps running; stop it with: kill ${prometheus.pid}); queries for the run just done:`)
  } else {
    say('Prometheus queries for the run just done:')
  }
  for (const query of runQueries(service)) {
    say(`  # ${query.what}`)
    say(`  ${query.expr}`)
    if (prometheus) say(`    = ${await summary(prometheus.url, query.expr)}`)
  }
  if (prometheus) {
    say(`render the dashboard: npx tsx scripts/render-dashboard.ts --prometheus ${prometheus.url} --service ${service} --minutes 5 --out /tmp/dashboard.png`)
  }
}

async function summary(url: string, expr: string): Promise<string> {
  const answer = await instantQuery(url, expr).catch((error: unknown) => ({ status: 'error' as const, error: String(error), data: undefined }))
  if (answer.status !== 'success') return `error: ${answer.error}`
  const result = answer.data?.result ?? []
  if (result.length === 0) return '(no series)'
  const interesting = (labels: Record<string, string>): string =>
    Object.entries(labels).filter(([k]) => !['__name__', 'instance', 'job', 'service'].includes(k)).map(([k, v]) => `${k}=${v}`).join(',')
  return result.slice(0, 12).map((r) => `${interesting(r.metric) || 'value'}: ${Number(r.value?.[1]).toFixed(3).replace(/\.?0+$/, '')}`).join('  ')
}
