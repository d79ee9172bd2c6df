/**
 * `make demo`: deploys the demo service v1 in both slots behind a handover agent; shows a
 * scheduled window that passes while the agent is down reported missed and not run; sets a
 * schedule for the clock's minute after next, drives load through the proxy, and lets the
 * agent upgrade to v2 at that time while `handover follow` prints the run. Then prints what a
 * client saw, where the dashboard is and the Prometheus queries that show the run (a
 * Prometheus scraping the agent every second is started if installed). Leaves the agent,
 * Prometheus and the service running so the metrics can be read.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../src/config/load-config.js'
import { isAlive } from '../src/runtime/process-alive.js'
import { connect } from '../src/db/connection.js'
import type { HistoryJson } from '../src/cli/json-output.js'
import { DEMO_IMAGES } from './lib/demo-images.js'
import { ensureDemoPrometheus, printObservability } from './lib/demo-observability.js'
import { DEMO_TIMEZONE, listSchedules, missedWindow, removeSchedules, startedWindow, upgradeSchedule, type DemoSchedules } from './lib/demo-schedules.js'
import { answers, runHandover, startAgentProcess } from './lib/handover-process.js'
import { formatReport, startLoad, verifyRows } from './lib/load-generator.js'
import { waitUntil } from './lib/wait-until.js'

const CONFIG = fileURLToPath(new URL('../deploy/demo/handover.yaml', import.meta.url))
const METRICS_PORT = 9464
const STATE_DIR = '/var/lib/handover'
const AGENT_PID_FILE = '/run/handover/demo-agent.pid'
// Clients create people, rename and delete earlier ones (the old version's updates between the
// expand and the contract are what the write capture keeps), and read them back.
const LOAD = { concurrency: 16, maxDurationMs: 180_000, maxRequests: 500_000, postRatio: 0.35, updateRatio: 0.25, deleteRatio: 0.03 }
/** The load starts this long before the scheduled time: under load at the window, without hours of rows to read back. */
const LOAD_LEAD_MS = 15_000

const config = loadConfig(CONFIG)
const say = (line: string): void => void process.stdout.write(`${line}\n`)

const schedules: DemoSchedules = { configFile: CONFIG, say, handover: (args) => handover(args) }

async function main(): Promise<number> {
  await resetDemo()
  let agent = await ensureAgent()
  await removeSchedules(schedules)
  const prometheus = await ensureDemoPrometheus(`127.0.0.1:${METRICS_PORT}`, say)
  await handover(['deploy', '--config', CONFIG, '--image', DEMO_IMAGES['1']])

  say(`\n== a window missed: a schedule due in a few seconds, and the agent stopped until its window has passed`)
  const missed = await missedWindow(schedules, DEMO_IMAGES['2'], async (due, until) => {
    await stopAgent(agent.pid)
    if (Date.now() >= due.getTime()) throw new Error(`the agent stopped after ${due.toISOString()}, the window's time: the machine is too loaded for the demo now`)
    say(`agent stopped (pid ${agent.pid}); starting it again at ${until.toISOString()}, after the window`)
    await sleepUntil(until)
    agent = await ensureAgent()
  })
  const missedOk = missed?.outcome === 'missed' && missed.runId === undefined && missed.pid === undefined
  say(missedOk ? 'the window is reported missed and nothing was run' : `expected a missed window and no run, got ${JSON.stringify(missed)}`)

  say(`\n== a scheduled upgrade: the agent upgrades to v2 at the clock's minute after next (${DEMO_TIMEZONE})`)
  const { schedule, due } = await upgradeSchedule(schedules, DEMO_IMAGES['2'])
  say(`due ${due.toISOString()} (in ${((due.getTime() - Date.now()) / 1000).toFixed(0)} s); load starts ${LOAD_LEAD_MS / 1000} s before`)
  await sleepUntil(new Date(due.getTime() - LOAD_LEAD_MS))
  const proxyUrl = `http://${config.proxy.listen.host}:${config.proxy.listen.port}`
  say(`\n== load: ${LOAD.concurrency} clients creating, renaming, deleting and reading people through ${proxyUrl}`)
  const load = startLoad({ baseUrl: proxyUrl, ...LOAD })
  await waitUntil(() => load.progress().written.length >= 200, 10_000, 'rows written before the upgrade')
  const window = await startedWindow(CONFIG, schedule.id, due)
  // follow reads the service's newest run in the journal: this one, once its runner has written it.
  await waitUntil(async () => window.runId === undefined || (await lastRunId()) === window.runId, 30_000, `run ${window.runId} in the journal`, 250)
  say(`the agent started the upgrade at ${window.startedAt} (pid ${window.pid}, output in ${window.logFile}); following it:`)
  const upgrade = await handover(['follow', '--config', CONFIG])
  const upgradeSeconds = (Date.now() - Date.parse(window.startedAt ?? due.toISOString())) / 1000
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
  say(`upgrade took ${upgradeSeconds.toFixed(2)} s from its scheduled start; phase durations are above and in \`handover status\``)
  say(`metrics: ${agent.metricsUrl} (agent pid ${agent.pid} keeps running; stop it with: kill ${agent.pid})`)
  await handover(['status', '--config', CONFIG])
  // Both windows as the agent keeps them, then the schedules go: their expressions match again next year.
  await handover(['schedule', 'list', '--config', CONFIG])
  const upgraded = (await listSchedules(CONFIG)).find((s) => s.id === schedule.id)?.windows[0]
  await removeSchedules(schedules)
  await printObservability(say, config.service.name, await lastRunId(), prometheus)
  const scheduledOk = upgraded?.outcome === 'succeeded' && upgraded.runId !== undefined
  const ok = missedOk && scheduledOk && upgrade.code === 0 && report.failed === 0 && bad === 0
  say(ok ? '\ndemo: OK, a missed window reported and not run; v1 → v2 at its scheduled time under load with no failed request and no lost write' : '\ndemo: FAILED')
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

async function ensureAgent(): Promise<{ pid: number; metricsUrl: string }> {
  const metricsUrl = `http://127.0.0.1:${METRICS_PORT}/metrics`
  if (await answers(config.agent.socket)) {
    // The demo stops and starts its agent (the missed window), so it must be the one the demo started.
    const pid = existsSync(AGENT_PID_FILE) ? Number(readFileSync(AGENT_PID_FILE, 'utf8').trim()) : NaN
    if (!Number.isInteger(pid) || !isAlive(pid)) throw new Error(`an agent answers on ${config.agent.socket} that the demo did not start (no live pid in ${AGENT_PID_FILE}); stop it first`)
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

/** SIGTERM, then waits (bounded) for the process to be gone and its socket to stop answering. */
async function stopAgent(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM')
  await waitUntil(async () => !isAlive(pid) && !(await answers(config.agent.socket)), 30_000, `the agent (pid ${pid}) to stop`, 100)
}

function sleepUntil(at: Date): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at.getTime() - Date.now())))
}

async function handover(args: string[]) {
  // Quoted as a shell would need them, so a printed command can be pasted.
  say(`\n$ handover ${args.map((arg) => (/[\s*"]/.test(arg) ? `"${arg}"` : arg)).join(' ')}`)
  const result = await runHandover(args, { onLine: say })
  if (result.code !== 0 && args[0] !== 'follow') throw new Error(`handover ${args[0]} exited with ${result.code}`)
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
