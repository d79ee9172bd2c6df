/**
 * A schedule upgrades the demo service under load: the real agent process starts
 * `handover upgrade` itself when the expression matches (in Asia/Tokyo, so a zone ignored
 * would fire nine hours off), no request fails, and the window records the run's id and
 * result, visible in `schedule list`, `history`, the metrics and the agent's log.
 */
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { startLoad } from '../../scripts/lib/load-generator.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import type { HistoryJson, ScheduleListJson, StatusJson } from '../../src/cli/json-output.js'
import { createTestService, removeLeftovers } from '../../scripts/lib/throwaway-service.js'
import { cronAt, secondsAhead } from '../../scripts/lib/cron-at.js'
import { restartAgent } from './schedule-test-support.js'

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('sched-up')
})

t.test('a scheduled window upgrades the service under load with no failed request', async (t) => {
  const svc = await createTestService('sched-up')
  const logs: string[] = []
  let agent = await restartAgent(svc, svc.agent, logs)
  t.teardown(async () => {
    await agent.stop()
    await svc.cleanup()
  })
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  t.equal(deploy.code, 0, 'deploy succeeds', { output: deploy.stdout + deploy.stderr })
  const load = startLoad({ baseUrl: svc.proxyUrl, concurrency: 8, maxDurationMs: 240_000, maxRequests: 400_000, postRatio: 0.5 })
  t.teardown(async () => void (await load.stop()))
  await waitUntil(() => load.progress().written.length >= 50, 20_000, 'rows written before the window')

  const dueAt = secondsAhead(15)
  const add = await runHandover(['schedule', 'add', '--config', svc.configFile, '--image', DEMO_IMAGES['2'], '--cron', cronAt(dueAt, 'Asia/Tokyo'), '--timezone', 'Asia/Tokyo', '--window', '5m', '--json'])
  t.equal(add.code, 0, 'schedule added', { output: add.stderr })
  const [schedule] = (JSON.parse(add.stdout) as ScheduleListJson).schedules
  t.equal(schedule?.nextRunAt, dueAt.toISOString(), 'due at the chosen second, read in Asia/Tokyo')

  const settled = async () => {
    const list = JSON.parse((await runHandover(['schedule', 'list', '--config', svc.configFile, '--json'])).stdout) as ScheduleListJson
    const window = list.schedules[0]?.windows[0]
    return window !== undefined && window.outcome !== 'running' ? window : undefined
  }
  await waitUntil(async () => (await settled()) !== undefined, 240_000, 'the scheduled upgrade to finish', 1000)
  const window = (await settled())!
  const written = load.progress().written.length
  await waitUntil(() => load.progress().written.length >= written + 50, 20_000, 'rows written after the upgrade')
  const report = await load.stop()

  t.match(window, { scheduledAt: dueAt.toISOString(), outcome: 'succeeded', exitCode: 0, runId: /^[0-9a-f-]{36}$/ }, 'the window succeeded and knows its run')
  t.ok(Date.parse(window.startedAt!) - dueAt.getTime() < 3000, 'it started at its time')
  t.equal(report.failed, 0, 'no request failed', { failures: report.failures.slice(0, 5) })
  t.ok(report.versions['1']! > 0 && report.versions['2']! > 0, 'clients were served by v1, then by v2')

  const history = JSON.parse((await runHandover(['history', '--config', svc.configFile, '--json'])).stdout) as HistoryJson
  t.match(history.runs, [{ id: window.runId, result: 'succeeded', toVersion: '2' }], 'history has the scheduled run')
  const status = JSON.parse((await runHandover(['status', '--config', svc.configFile, '--json'])).stdout) as StatusJson
  t.equal(status.schedules?.[0]?.windows[0]?.runId, window.runId, 'status --json shows the schedule with its run')
  t.ok(existsSync(window.logFile!) && /succeeded in/.test(readFileSync(window.logFile!, 'utf8')), "the run's output is in its log file")
  t.notMatch(readFileSync(window.logFile!, 'utf8'), new RegExp(process.env.HANDOVER_DB_PASSWORD!), 'with no secret in it')
  const metrics = await (await fetch(agent.metricsUrl)).text()
  t.match(metrics, new RegExp(`handover_scheduled_windows_total\\{service="${svc.name}",schedule="${schedule!.id}",outcome="succeeded"\\} 1`), 'metrics count the succeeded window')
  const started = logs.find((line) => line.includes('"msg":"scheduled upgrade started"'))
  t.ok(started && !started.includes(process.env.HANDOVER_DB_PASSWORD!), 'the agent logs the start, without secrets', { started })
  t.ok(logs.some((line) => line.includes('"msg":"scheduled upgrade finished"') && line.includes(window.runId!)), 'and the end, with the run id')
})
