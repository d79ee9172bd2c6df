import { Registry } from 'prom-client'
import t from 'tap'
import { UpgradeMetrics } from '../../src/metrics/upgrade-metrics.js'

async function values(registry: Registry, name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  return (await registry.getSingleMetric(name)!.get()).values as Array<{ labels: Record<string, string | number>; value: number }>
}

t.test('the phase gauge marks the running phase and zeroes the others', async (t) => {
  const registry = new Registry()
  const metrics = new UpgradeMetrics(registry)
  const base = { service: 'shop', runId: 'r1' }
  metrics.record({ ...base, type: 'run-started', fromVersion: '1', toVersion: '2', mode: 'strict' })
  metrics.record({ ...base, type: 'phase-started', phase: 'preflight' })
  metrics.record({ ...base, type: 'phase-completed', phase: 'preflight', durationSeconds: 1.5 })
  metrics.record({ ...base, type: 'phase-started', phase: 'backup' })
  const phases = Object.fromEntries((await values(registry, 'handover_upgrade_phase')).map((v) => [v.labels.phase, v.value]))
  t.same(phases, { preflight: 0, backup: 1 })

  metrics.record({ ...base, type: 'phase-failed', phase: 'backup', durationSeconds: 2, errorCode: 'X', errorMessage: 'no disk' })
  metrics.record({ ...base, type: 'phase-undone', phase: 'preflight', durationSeconds: 0.1, ok: true })
  metrics.record({ ...base, type: 'run-finished', result: 'rolled_back', durationSeconds: 4 })
  const after = await values(registry, 'handover_upgrade_phase')
  t.same(after.map((v) => v.value), [0, 0], 'nothing runs after the run finished')

  const counts = (await values(registry, 'handover_upgrade_phase_duration_seconds'))
    .filter((v) => (v as { metricName?: string }).metricName === 'handover_upgrade_phase_duration_seconds_count')
    .map((v) => `${v.labels.phase}/${v.labels.result}=${v.value}`)
    .sort()
  t.same(counts, ['backup/failed=1', 'preflight/completed=1', 'preflight/undone=1'])
  t.same((await values(registry, 'handover_upgrades_total')).map((v) => [v.labels.result, v.value]), [['rolled_back', 1]])
  t.same((await values(registry, 'handover_upgrade_rollbacks_total')).map((v) => v.value), [1])
})
