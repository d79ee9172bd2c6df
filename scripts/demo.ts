/**
 * `make demo`: deploys the demo service v1 in both slots behind a handover agent, drives
 * load through the proxy, upgrades to v2 with the real CLI while the load runs, and prints
 * what a client saw, then where the dashboard is and the Prometheus queries that show the run
 * (a Prometheus scraping the agent every second is started if installed). Leaves the agent,
 * Prometheus and the service running so the metrics can be read.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../src/config/load-config.js'
import { connect } from '../src/db/connection.js'
import type { HistoryJson } from '../src/cli/json-output.js'
import { DEMO_IMAGES } from './lib/demo-images.js'
import { ensureDemoPrometheus, printObservability } from './lib/demo-observability.js'
import { answers, runHandover, startAgentProcess } from './lib/handover-process.js'
import { formatReport, startLoad, verifyRows } from './lib/load-generator.js'
import { waitUntil } from './lib/wait-until.js'

const CONFIG = fileURLToPath(new URL('../deploy/demo/handover.yaml', import.meta.url))
const METRICS_PORT = 9464
const STATE_DIR = '/var/lib/handover'
const AGENT_PID_FILE = '/run/handover/demo-agent.pid'
// Clients create people, rename and delete earlier ones (the old version's updates between the
// expand and the contract are what the write capture keeps), and read them back.
const LOAD = { concurrency: 16, maxDurationMs: 120_000, maxRequests: 500_000, postRatio: 0.35, updateRatio: 0.25, deleteRatio: 0.03 }

const config = loadConfig(CONFIG)
const say = (line: string): void => void process.stdout.write(`${line}\n`)

async function main(): Promise<number> {
  await resetDemo()
  const agent = await ensureAgent()
  const prometheus = await ensureDemoPrometheus(`127.0.0.1:${METRICS_PORT}`, say)
  await handover(['deploy', '--config', CONFIG, '--image', DEMO_IMAGES['1']])
  const proxyUrl = `http://${config.proxy.listen.host}:${config.proxy.listen.port}`
  say(`\n== load: ${LOAD.concurrency} clients creating, renaming, deleting and reading people through ${proxyUrl}`)
  const load = startLoad({ baseUrl: proxyUrl, ...LOAD })
  await waitUntil(() => load.progress().written.length >= 200, 10_000, 'rows written before the upgrade')
  const upgradeBegan = Date.now()
  const upgrade = await handover(['upgrade', '--config', CONFIG, '--image', DEMO_IMAGES['2']])
  const upgradeSeconds = (Date.now() - upgradeBegan) / 1000
  const after = load.progress().sent
  await waitUntil(() => load.progress().sent >= after + 500, 10_000, 'requests sent after the upgrade')
  const report = await load.stop()
  const check = await verifyRows(proxyUrl, report.written, { deleted: report.deleted })
  const bufferWait = await longestBufferWait(agent.metricsUrl)
  say('\n== result')
  say(formatReport(report))
  say(`requests sent: ${report.sent}`)
  say(`requests failed: ${report.failed}`)
  const bad = check.missing.length + check.undeleted.length + check.wrong.length + check.errors.length
  say(`people held: ${report.written.length} (${report.updates} renames, ${report.deleted.length} deletes acknowledged); read back after the upgrade: ${check.checked - bad} correct, ${check.missing.length} missing, ${check.wrong.length} with a stale name, ${check.undeleted.length} deleted but back, ${check.errors.length} unreadable`)
  say(`longest time a request spent in the buffer: ${bufferWait}`)
  say(`upgrade took ${upgradeSeconds.toFixed(2)} s; phase durations are above and in \`handover status\``)
  say(`metrics: ${agent.metricsUrl} (agent pid ${agent.pid} keeps running; stop it with: kill ${agent.pid})`)
  await handover(['status', '--config', CONFIG])
  await printObservability(say, config.service.name, await lastRunId(), prometheus)
  const ok = upgrade.code === 0 && report.failed === 0 && bad === 0
  say(ok ? '\ndemo: OK, v1 → v2 under load with no failed request and no lost write' : '\ndemo: FAILED')
  return ok ? 0 : 1
}

/** A clean start: the demo's containers and schema from an earlier run are removed. */
async function resetDemo(): Promise<void> {
  say('== reset: removing the demo containers and schema of any earlier run')
  for (const slot of ['blue', 'green']) {
    spawnSync('docker', ['rm', '-f', `handover-${config.service.name}-${slot}`], { stdio: 'ignore' })
  }
  const db = await connect(config.database)
  try {
    await db.query(`DROP DATABASE IF EXISTS \`${config.database.schema}\``)
    await db.query(`CREATE DATABASE IF NOT EXISTS \`${config.database.journalSchema}\``)
    await db.query(`DELETE FROM \`${config.database.journalSchema}\`.handover_migrations WHERE service = ?`, [config.service.name]).catch(() => undefined)
  } finally {
    await db.end()
  }
}

async function ensureAgent(): Promise<{ pid: number | string; metricsUrl: string }> {
  const metricsUrl = `http://127.0.0.1:${METRICS_PORT}/metrics`
  if (await answers(config.agent.socket)) {
    const pid = existsSync(AGENT_PID_FILE) ? readFileSync(AGENT_PID_FILE, 'utf8').trim() : 'unknown'
    say(`== agent: already running on ${config.agent.socket} (pid ${pid})`)
    return { pid, metricsUrl }
  }
  mkdirSync(STATE_DIR, { recursive: true })
  const agent = await startAgentProcess({
    socket: config.agent.socket,
    stateFile: `${STATE_DIR}/demo-routes.json`,
    metricsPort: METRICS_PORT,
    detachedLogFile: '/var/log/handover-demo-agent.log',
  })
  writeFileSync(AGENT_PID_FILE, `${agent.pid}\n`)
  say(`== agent: started, pid ${agent.pid}, admin ${config.agent.socket}, log /var/log/handover-demo-agent.log`)
  return agent
}

async function handover(args: string[]) {
  say(`\n$ handover ${args.join(' ')}`)
  const result = await runHandover(args, { onLine: say })
  if (result.code !== 0 && args[0] !== 'upgrade') throw new Error(`handover ${args[0]} exited with ${result.code}`)
  return result
}

async function lastRunId(): Promise<string | undefined> {
  const result = await runHandover(['history', '--config', CONFIG, '--limit', '1', '--json'])
  if (result.code !== 0) return undefined
  return (JSON.parse(result.stdout) as HistoryJson).runs[0]?.id
}

async function longestBufferWait(metricsUrl: string): Promise<string> {
  const text = await fetch(metricsUrl).then((response) => response.text())
  const line = text.split('\n').find((l) => l.startsWith(`handover_proxy_buffer_release_longest_wait_seconds{service="${config.service.name}"}`))
  return line ? `${(Number(line.split(' ').pop()) * 1000).toFixed(0)} ms` : 'not reported'
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`demo: ${(error as Error).message}\n`)
    process.exit(1)
  },
)
