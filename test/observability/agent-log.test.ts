/**
 * The agent's log is JSON lines with time, level and msg, and during an upgrade each line
 * about the service carries the run id: checked on a real agent process's stderr.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../scripts/lib/free-port.js'
import { startAgentProcess } from '../../scripts/lib/handover-process.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { route } from '../proxy/fixtures/agent.js'
import { startUpstreams } from '../proxy/fixtures/upstream.js'

t.test('agent log lines are JSON with time, level, msg; lines of an upgrade carry its run id', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'obs-log-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const raw: string[] = []
  const agent = await startAgentProcess({ socket: join(dir, 'agent.sock'), stateFile: join(dir, 'routes.json'), metricsPort: await freePort(), onLog: (line) => raw.push(line) })
  t.teardown(agent.stop)
  const { blue, green } = await startUpstreams(t)
  const client = new AdminClient(join(dir, 'agent.sock'))
  await client.putService(route('shop', { blue: blue.port, green: green.port }))

  const base = { service: 'shop', runId: 'run-0042' }
  await client.reportEvent({ ...base, type: 'run-started', fromVersion: '1', toVersion: '2', mode: 'strict' })
  await client.reportEvent({ ...base, type: 'phase-started', phase: 'disable-standby' })
  await client.setSlotState('shop', 'green', 'disabled')
  await client.reportEvent({ ...base, type: 'phase-completed', phase: 'disable-standby', durationSeconds: 0.2 })
  await client.reportEvent({ ...base, type: 'run-finished', result: 'succeeded', durationSeconds: 1 })
  await client.setSlotState('shop', 'green', 'active')
  await waitUntil(() => raw.filter((line) => line.includes('slot state changed')).length >= 2, 10_000, 'both slot changes logged')

  const lines = raw.map((line) => JSON.parse(line) as Record<string, unknown>)
  t.ok(lines.length >= 6, `every line parses as JSON (${lines.length})`)
  for (const line of lines) {
    t.ok(typeof line.time === 'string' && !Number.isNaN(Date.parse(line.time)) && ['info', 'warn', 'error'].includes(line.level as string) && typeof line.msg === 'string', `time, level and msg: ${line.msg}`)
  }
  const changes = lines.filter((line) => line.msg === 'slot state changed')
  t.same(changes.map((line) => [line.to, line.runId]), [['disabled', 'run-0042'], ['active', undefined]], 'the change during the run has its id; the one after has none')
  t.same(
    lines.filter((line) => String(line.msg).startsWith('upgrade')).map((line) => [line.msg, line.runId, line.phase ?? line.result ?? line.toVersion]),
    [
      ['upgrade started', 'run-0042', '2'],
      ['upgrade phase started', 'run-0042', 'disable-standby'],
      ['upgrade phase completed', 'run-0042', 'disable-standby'],
      ['upgrade finished', 'run-0042', 'succeeded'],
    ],
    'each upgrade event the agent received is a line with the run id',
  )
})
