/**
 * Schedules kept by a real agent process: bad input is refused before anything is stored,
 * a window that comes while another run of the service is unfinished is skipped (and says
 * which run), and a window that passes while the agent is down is reported as missed after
 * the restart, not run late. Nothing here upgrades: the journal must stay empty.
 */
import t from 'tap'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import type { HistoryJson, ScheduleListJson } from '../../src/cli/json-output.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { createTestService } from '../../scripts/lib/throwaway-service.js'
import { addScheduleDue, restartAgent } from './schedule-test-support.js'

async function listSchedules(configFile: string): Promise<ScheduleListJson['schedules']> {
  const list = await runHandover(['schedule', 'list', '--config', configFile, '--json'])
  if (list.code !== 0) throw new Error(`schedule list failed: ${list.stderr}`)
  return (JSON.parse(list.stdout) as ScheduleListJson).schedules
}

t.test('bad input is refused naming the argument, and nothing is stored', async (t) => {
  const svc = await createTestService('sched-in')
  t.teardown(svc.cleanup)
  const add = (...extra: string[]) => runHandover(['schedule', 'add', '--config', svc.configFile, '--image', 'handover-demo:2', ...extra])
  const cases: Array<[string[], RegExp]> = [
    [['--cron', '0 99 * * *', '--timezone', 'UTC'], /--cron: "0 99 \* \* \*" is not a cron expression \(hour "99"/],
    [['--cron', '0 3 * * 0', '--timezone', 'Mars/Olympus'], /--timezone: "Mars\/Olympus" is not a time zone name/],
    [['--cron', '0 3 * * 0'], /--timezone is required/],
    [['--cron', '0 3 * * 0', '--timezone', 'UTC', '--window', '30 minutes'], /--window: must be a duration such as 90s, 30m or 2h/],
  ]
  for (const [args, message] of cases) {
    const answer = await add(...args)
    t.equal(answer.code, 2, `exit 2 for ${args.join(' ')}`)
    t.match(answer.stderr, message, 'the error names the argument')
  }
  t.same(await listSchedules(svc.configFile), [], 'no schedule was stored')
  const bad = await new AdminClient(`${svc.dir}/agent.sock`).addSchedule({ service: svc.name, config: 'relative.yaml', image: 'x', cron: '* * * * *', timezone: 'UTC', windowSeconds: 60 }).catch((error: unknown) => error)
  t.match(bad, { agentCode: 'INVALID_INPUT', agentMessage: /^body\.config: must be an absolute path/ }, 'the agent refuses a body the CLI would not send')

  const ok = await add('--cron', '0 3 * * 0', '--timezone', 'Europe/Berlin', '--window', '45m', '--json')
  t.equal(ok.code, 0, 'a good schedule is added', { output: ok.stderr })
  const [added] = (JSON.parse(ok.stdout) as ScheduleListJson).schedules
  t.match(added, { service: svc.name, cron: '0 3 * * 0', timezone: 'Europe/Berlin', windowSeconds: 2700, windows: [] })
  t.match(added?.nextRunAt, /T0[12]:00:00\.000Z$/, 'next at 03:00 Berlin time (01:00 or 02:00 UTC)')
  const removed = await runHandover(['schedule', 'remove', '--config', svc.configFile, '--id', added!.id])
  t.equal(removed.code, 0, 'it is removed')
  const again = await runHandover(['schedule', 'remove', '--config', svc.configFile, '--id', added!.id])
  t.match(again.stderr, /SCHEDULE_NOT_FOUND/, 'a second remove finds nothing')
})

t.test('a window is skipped while a run is unfinished, and one passed while the agent was down is missed', async (t) => {
  const svc = await createTestService('sched-win')
  const logs: string[] = []
  let agent = await restartAgent(svc, svc.agent, logs)
  t.teardown(async () => {
    await agent.stop()
    await svc.cleanup()
  })
  const client = new AdminClient(`${svc.dir}/agent.sock`)

  // A run of the service the agent knows as started and not finished.
  await client.reportEvent({ type: 'run-started', service: svc.name, runId: 'run-unfinished', fromVersion: '1', toVersion: '2', mode: 'strict' })
  const { due: busyAt } = await addScheduleDue(svc.configFile, 'handover-demo:2', '1m', 4)
  await waitUntil(async () => ((await listSchedules(svc.configFile))[0]?.windows.length ?? 0) > 0, 40_000, 'the busy window to be settled')
  const [skipped] = await listSchedules(svc.configFile)
  t.match(skipped?.windows[0], { scheduledAt: busyAt.toISOString(), outcome: 'skipped', reason: /run run-unfinished of .* is unfinished/ }, 'skipped, naming the unfinished run')
  await client.reportEvent({ type: 'run-finished', service: svc.name, runId: 'run-unfinished', result: 'rolled_back', durationSeconds: 1 })
  await runHandover(['schedule', 'remove', '--config', svc.configFile, '--id', skipped!.id])

  const { schedule: missedSchedule, due: dueAt } = await addScheduleDue(svc.configFile, 'handover-demo:2', '1s', 4)
  await agent.stop()
  await waitUntil(() => Date.now() > dueAt.getTime() + 2500, 30_000, 'the window to pass while the agent is down')
  agent = await restartAgent(svc, agent, logs)

  const [after] = await listSchedules(svc.configFile)
  t.equal(after?.id, missedSchedule?.id, 'the schedule survived the restart')
  t.match(after?.windows, [{ scheduledAt: dueAt.toISOString(), outcome: 'missed', reason: /the agent was not running/ }], 'its window is reported missed')
  t.ok(after?.nextRunAt && Date.parse(after.nextRunAt) > Date.now() + 300 * 24 * 3600 * 1000, 'and it is next due a year on')
  const metrics = await (await fetch(agent.metricsUrl)).text()
  t.match(metrics, new RegExp(`handover_scheduled_windows_total\\{service="${svc.name}",schedule="${after!.id}",outcome="missed"\\} 1`), 'metrics count the missed window')
  t.match(metrics, new RegExp(`handover_scheduled_windows_total\\{service="${svc.name}",schedule="${after!.id}",outcome="started"\\} 0`), 'and nothing started')
  t.ok(logs.some((line) => line.includes('"msg":"scheduled window missed"') && line.includes(after!.id)), 'the agent logs the missed window')
  t.ok(logs.some((line) => line.includes('"msg":"scheduled window skipped"')), 'and the skipped one')
  const history = JSON.parse((await runHandover(['history', '--config', svc.configFile, '--json'])).stdout) as HistoryJson
  t.same(history.runs, [], 'no upgrade ran')
  const status = await runHandover(['status', '--config', svc.configFile])
  t.match(status.stdout, new RegExp(`schedule ${after!.id}: .* last window ${dueAt.toISOString().replace(/\./g, '\\.')} missed`), 'status shows the schedule and its missed window')
})
