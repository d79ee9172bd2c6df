import { Registry } from 'prom-client'
import t from 'tap'
import { UpgradeMetrics } from '../../src/metrics/upgrade-metrics.js'
import type { UpgradeEvent } from '../../src/protocol/events.js'

type Value = { labels: Record<string, string | number>; value: number }

async function values(registry: Registry, name: string): Promise<Value[]> {
  return (await registry.getSingleMetric(name)!.get()).values as Value[]
}

function run(metrics: UpgradeMetrics, service: string, runId: string, phases: Array<[string, 'completed' | 'failed']>, result: 'succeeded' | 'rolled_back' | 'failed'): void {
  const base = { service, runId }
  const events: UpgradeEvent[] = [{ ...base, type: 'run-started', fromVersion: '1', toVersion: '2', mode: 'strict' }]
  for (const [phase, outcome] of phases) {
    events.push({ ...base, type: 'phase-started', phase })
    if (outcome === 'completed') events.push({ ...base, type: 'phase-completed', phase, durationSeconds: 1 })
    else events.push({ ...base, type: 'phase-failed', phase, durationSeconds: 1, errorCode: 'X', errorMessage: 'boom' })
  }
  events.push({ ...base, type: 'run-finished', result, durationSeconds: 9 })
  for (const event of events) metrics.record(event)
}

t.test('the running phase has its start time, and only while it runs', async (t) => {
  const registry = new Registry()
  const metrics = new UpgradeMetrics(registry)
  const base = { service: 'shop', runId: 'r1' }
  metrics.record({ ...base, type: 'run-started', fromVersion: '1', toVersion: '2', mode: 'strict' })
  t.equal(metrics.runs.runningRunId('shop'), 'r1', 'the run in progress is known by service')
  const before = Date.now() / 1000
  metrics.record({ ...base, type: 'phase-started', phase: 'expand' })
  const started = await values(registry, 'handover_upgrade_phase_started_timestamp_seconds')
  t.same(started.map((v) => v.labels), [{ service: 'shop', phase: 'expand' }])
  t.ok(started[0]!.value >= before - 1 && started[0]!.value <= Date.now() / 1000 + 1, 'the value is the unix time in seconds')
  metrics.record({ ...base, type: 'phase-completed', phase: 'expand', durationSeconds: 1 })
  t.same(await values(registry, 'handover_upgrade_phase_started_timestamp_seconds'), [], 'no series once the phase ended')
  t.same((await values(registry, 'handover_upgrade_running')).map((v) => v.value), [1])
  metrics.record({ ...base, type: 'run-finished', result: 'succeeded', durationSeconds: 5 })
  t.same((await values(registry, 'handover_upgrade_running')).map((v) => v.value), [0])
  t.equal(metrics.runs.runningRunId('shop'), undefined)
})

t.test('a run that fails past the point of no return is counted; one that fails before it is not', async (t) => {
  const registry = new Registry()
  const metrics = new UpgradeMetrics(registry)
  run(metrics, 'early', 'r1', [['preflight', 'completed'], ['expand', 'failed']], 'failed')
  run(metrics, 'late', 'r2', [['contract', 'completed'], ['verify', 'failed']], 'failed')
  const failed = await values(registry, 'handover_upgrade_failed_past_point_of_no_return_total')
  t.same(failed.map((v) => [v.labels.service, v.value]), [['early', 0], ['late', 1]], 'the series exists at 0 from run start, so increase() sees the first failure')
  const rollbacks = await values(registry, 'handover_upgrade_rollbacks_total')
  t.same(rollbacks.map((v) => [v.labels.service, v.value]), [['early', 0], ['late', 0]], 'rollbacks too exist at 0 once a run started')
  const passed = Object.fromEntries((await values(registry, 'handover_upgrade_point_of_no_return_passed')).map((v) => [v.labels.service, v.value]))
  t.same(passed, { early: 0, late: 1 })
})

t.test('the schema version follows the version table: from at start, to after finalize, from after a rollback', async (t) => {
  const registry = new Registry()
  const metrics = new UpgradeMetrics(registry)
  const versions = async (): Promise<string[]> => (await values(registry, 'handover_schema_version_info')).map((v) => `${v.labels.service}=${v.labels.version}:${v.value}`).sort()
  run(metrics, 'ok', 'r1', [['contract', 'completed'], ['finalize', 'completed']], 'succeeded')
  run(metrics, 'back', 'r2', [['expand', 'failed']], 'rolled_back')
  t.same(await versions(), ['back=1:1', 'ok=2:1'], 'one series per service, the old one removed')
})
