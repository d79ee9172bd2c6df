/**
 * The dashboard and the alert rules, checked against real servers: Debian's Prometheus
 * scrapes a real agent (1 s interval) while the real CLI upgrades the demo service v1 → v2
 * on the real Docker engine and MariaDB under light load. Then every panel query and every
 * alert expression of deploy/ is evaluated through Prometheus's HTTP API.
 *
 * The buffer is limited to 2 held requests for this upgrade, so the flip really rejects
 * some requests ('full'): the rejections panel has data and HandoverHeldRequestsRejected
 * really fires. The other alerts must stay empty in this healthy run; for them the test
 * checks that the full expression evaluates without error and returns nothing, and that
 * every metric the expression reads has series in Prometheus (the running phase's start
 * time only exists while a phase runs, so it is sampled during the upgrade).
 *
 * A schedule whose time comes while the upgrade runs is skipped by the real agent (the
 * service's run is unfinished), so the schedule panels have data and
 * HandoverScheduledWindowNotRun really fires; the run's lease gives the takeover panel and
 * HandoverRunTakeoverGaveUp their series (at 0 in this healthy run).
 */
import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { alertRules, metricNames, panelQueries, readDashboard, variableMetric } from '../../scripts/lib/dashboard-queries.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { startLoad } from '../../scripts/lib/load-generator.js'
import { renderDashboard } from '../../scripts/lib/render-dashboard-png.js'
import { ALERT_RULES_FILE, ALERT_TESTS_FILE, instantQuery, promtool, startPrometheus, type PrometheusProcess } from '../../scripts/lib/prometheus-process.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import type { ScheduleWindow } from '../../src/protocol/schedules.js'
import { cronAt, secondsAhead } from '../../scripts/lib/cron-at.js'
import { createTestService, removeLeftovers, type TestService } from '../../scripts/lib/throwaway-service.js'

/** Alerts a healthy upgrade with a 2-request buffer makes fire; all others must be empty. */
const FIRING_IN_THIS_RUN = new Set(['HandoverHeldRequestsRejected', 'HandoverScheduledWindowNotRun'])
/** A tag no registry has: were the window not skipped, its upgrade would fail at once instead of upgrading again. */
const ABSENT_IMAGE = 'handover-demo:absent-obs-prom'

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('obs-prom')
})

t.test('promtool accepts the rules and their unit tests pass', async (t) => {
  const check = promtool(['check', 'rules', ALERT_RULES_FILE])
  t.equal(check.code, 0, 'promtool check rules exits 0', { output: check.output })
  t.match(check.output, /SUCCESS: 9 rules found/, 'all nine rules are read')
  const unit = promtool(['test', 'rules', ALERT_TESTS_FILE])
  t.equal(unit.code, 0, 'promtool test rules exits 0', { output: unit.output })
  const tested = new Set([...readFileSync(ALERT_TESTS_FILE, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]))
  t.same([...tested].sort(), alertRules().map((rule) => rule.alert).sort(), 'every alert has a unit test')
})

t.test('every panel query and alert expression against Prometheus scraping a real upgrade', async (t) => {
  const svc = await createTestService('obs-prom')
  t.teardown(svc.cleanup)
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  t.equal(deploy.code, 0, 'deploy succeeds', { output: deploy.stdout + deploy.stderr })

  const prometheus = await startPrometheus({ agentTarget: new URL(svc.agent.metricsUrl).host, scrapeIntervalSeconds: 1 })
  t.teardown(prometheus.stop)
  const query = (expr: string) => instantQuery(prometheus.url, expr)
  await waitUntil(async () => (await query(`up{job="handover-agent"} == 1`)).data?.result.length === 1, 20_000, 'Prometheus to scrape the agent', 200)

  writeFileSync(svc.configFile, readFileSync(svc.configFile, 'utf8').replace('maxRequests: 10000', 'maxRequests: 2'))
  const load = startLoad({ baseUrl: svc.proxyUrl, concurrency: 6, maxDurationMs: 150_000, maxRequests: 200_000, postRatio: 0.3 })
  t.teardown(async () => void (await load.stop()))
  await waitUntil(() => load.progress().written.length >= 20, 20_000, 'rows written before the upgrade')

  const upgradeBegan = Date.now() / 1000
  const upgrading = sampleDuringUpgrade(prometheus, svc.name, () =>
    runHandover(['upgrade', '--config', svc.configFile, '--image', DEMO_IMAGES['2']]),
  )
  const skipped = await scheduleDuringRun(svc)
  const seenDuringRun = await upgrading
  t.match(skipped, { outcome: 'skipped', reason: /^run [0-9a-f-]{36} of .* is unfinished$/ }, 'a window due during the run is skipped, not run', { skipped })
  t.equal(seenDuringRun.upgrade.code, 0, 'upgrade succeeds', { output: seenDuringRun.upgrade.stdout + seenDuringRun.upgrade.stderr })
  t.ok(seenDuringRun.phases.size >= 3, `Prometheus saw phases running (${[...seenDuringRun.phases].join(', ')})`)
  t.ok(seenDuringRun.startedTimestamp, 'Prometheus saw handover_upgrade_phase_started_timestamp_seconds during the run')
  await waitUntil(
    async () => (await query(`handover_upgrades_total{service="${svc.name}",result="succeeded"} == 1`)).data?.result.length === 1,
    20_000,
    'Prometheus to scrape the finished run',
    200,
  )
  t.ok(load.progress().failed > 0, 'the 2-request buffer answered some requests 503 during the flip')

  const dashboard = readDashboard()
  const variable = variableMetric(dashboard, 'service')
  const services = await query(`count by (${variable.label}) (${variable.metric})`)
  t.ok(services.data?.result.some((r) => r.metric[variable.label] === svc.name), `$service's label_values(${variable.metric}, ${variable.label}) lists ${svc.name}`)

  const panels = panelQueries(svc.name, dashboard)
  t.ok(panels.length >= 18, `the dashboard has its queries (${panels.length})`)
  for (const panel of panels) {
    const answer = await query(panel.expr)
    t.equal(answer.status, 'success', `panel "${panel.panel}" ${panel.refId} evaluates`, { expr: panel.expr, error: answer.error })
    t.ok((answer.data?.result.length ?? 0) > 0, `panel "${panel.panel}" ${panel.refId} returns series`, { expr: panel.expr })
  }

  for (const rule of alertRules()) {
    const answer = await query(rule.expr)
    t.equal(answer.status, 'success', `alert ${rule.alert}: the expression evaluates`, { error: answer.error })
    const firing = answer.data?.result.length ?? 0
    if (FIRING_IN_THIS_RUN.has(rule.alert)) t.ok(firing > 0, `alert ${rule.alert}: fires on the rejections this run caused`)
    else t.equal(firing, 0, `alert ${rule.alert}: empty in this healthy run`, { result: answer.data?.result })
    for (const metric of metricNames(rule.expr)) {
      if (metric === 'handover_upgrade_phase_started_timestamp_seconds') continue // sampled during the run, above
      const selector = metric === 'up' ? `up{job="handover-agent"}` : `${metric}{service="${svc.name}"}`
      const series = await query(selector)
      t.ok((series.data?.result.length ?? 0) > 0, `alert ${rule.alert}: its metric ${selector} has series`)
    }
  }
  await assertRulesHealthy(t, prometheus)
  await assertRendered(t, prometheus, svc.name, upgradeBegan - 10)
})

/** The render script draws every panel from this run; HANDOVER_DASHBOARD_PNG keeps the image (docs/dashboard.png is made so). */
async function assertRendered(t: Test, prometheus: PrometheusProcess, service: string, start: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'obs-render-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = process.env.HANDOVER_DASHBOARD_PNG ?? join(dir, 'dashboard.png')
  const result = await renderDashboard({ prometheusUrl: prometheus.url, service, start, end: Date.now() / 1000 + 5, out })
  const png = readFileSync(out)
  t.equal(png.subarray(1, 4).toString(), 'PNG', 'the render wrote a PNG')
  t.same([png.readUInt32BE(16), png.readUInt32BE(20)], [result.width, result.height], 'of the dashboard page size')
  t.same(result.emptyPanels, [], 'every panel drawn has data')
  t.ok(png.length > 30_000, `the image has content (${png.length} bytes)`)
}

/**
 * Once the agent reports the run, adds a schedule due two seconds later and waits (bounded)
 * for the agent to record what became of its window. Through the admin API in this process:
 * a CLI process's start on a loaded machine takes seconds of a run that lasts about fifteen
 * (the CLI's schedule commands have their own tests). A once-a-year expression armed after
 * its second would wait a year: the agent's nextRunAt tells, and a later one replaces it.
 */
async function scheduleDuringRun(svc: TestService): Promise<ScheduleWindow | undefined> {
  const running = `handover_upgrade_running{service="${svc.name}"} 1`
  await waitUntil(async () => (await (await fetch(svc.agent.metricsUrl)).text()).includes(running), 60_000, 'the agent to report the run', 100)
  const agent = new AdminClient(join(svc.dir, 'agent.sock'))
  let scheduleId: string | undefined
  for (let attempt = 1; attempt <= 3 && scheduleId === undefined; attempt++) {
    const due = secondsAhead(1 + attempt)
    const schedule = await agent.addSchedule({ service: svc.name, config: svc.configFile, image: ABSENT_IMAGE, cron: cronAt(due, 'UTC'), timezone: 'UTC', windowSeconds: 60 })
    if (schedule.nextRunAt === due.toISOString()) scheduleId = schedule.id
    else await agent.removeSchedule(schedule.id)
  }
  if (scheduleId === undefined) throw new Error('three schedules were each armed after their time')
  const window = async (): Promise<ScheduleWindow | undefined> => (await agent.listSchedules()).find((schedule) => schedule.id === scheduleId)?.windows[0]
  await waitUntil(async () => (await window()) !== undefined, 30_000, 'the schedule window to be recorded', 100)
  return window()
}

/** Runs the upgrade while polling Prometheus (bounded by the upgrade itself and 400 polls). */
async function sampleDuringUpgrade<T>(prometheus: PrometheusProcess, service: string, upgrade: () => Promise<T>): Promise<{ upgrade: T; phases: Set<string>; startedTimestamp: boolean }> {
  const phases = new Set<string>()
  let startedTimestamp = false
  let done = false
  const running = upgrade().finally(() => (done = true))
  for (let poll = 0; poll < 400 && !done; poll++) {
    const running = await instantQuery(prometheus.url, `handover_upgrade_phase{service="${service}"} == 1`)
    for (const series of running.data?.result ?? []) phases.add(series.metric.phase ?? '?')
    const started = await instantQuery(prometheus.url, `time() - handover_upgrade_phase_started_timestamp_seconds{service="${service}"} >= 0`)
    if ((started.data?.result.length ?? 0) > 0) startedTimestamp = true
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return { upgrade: await running, phases, startedTimestamp }
}

async function assertRulesHealthy(t: Test, prometheus: PrometheusProcess): Promise<void> {
  const response = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } }
  const rules = response.data.groups.flatMap((group) => group.rules)
  t.same(rules.map((rule) => rule.name).sort(), alertRules().map((rule) => rule.alert).sort(), 'Prometheus loaded every alert rule')
  t.same(rules.filter((rule) => rule.health !== 'ok'), [], 'and evaluated each without error')
}
