/**
 * Every event the runner can emit reaches a real agent over its admin socket and counts in
 * its metrics. Before the vocabulary was shared, the agent kept its own list of event types
 * without `phase-undo-started`, answered 400 to it, and rollbacks never reached Grafana.
 */
import t from 'tap'
import { HandoverError } from '../../src/errors.js'
import { UPGRADE_EVENT_TYPES, UPGRADE_EVENTS, type EventFieldTypes, type UpgradeEvent } from '../../src/protocol/events.js'
import { EventBus } from '../../src/upgrade/reporting/event-bus.js'
import { runPhases } from '../../src/upgrade/run/phase-runner.js'
import type { Phase } from '../../src/upgrade/run/upgrade-context.js'
import { startTestAgent } from '../proxy/fixtures/agent.js'
import { adminRaw } from '../proxy/fixtures/http-client.js'
import { fakeContext } from '../upgrade/fixtures/fake-context.js'

class BrokenError extends HandoverError {
  readonly code = 'BROKEN'
}

/** One value of each kind of field, so an event of any type can be built from the table alone. */
const SAMPLE: EventFieldTypes = {
  phase: 'flip',
  version: '2.0.1',
  seconds: 1.25,
  flag: false,
  code: 'X_FAILED',
  message: 'it broke',
  result: 'rolled_back',
  mode: 'strict',
  count: 42,
  slot: 'green',
  part: 'contract',
  algorithm: 'INSTANT',
  capture: 'row-trigger',
  outcome: 'ran',
  label: 'v2.sql',
  labels: ['v2.sql:3', 'people._handover_name'],
}

function sampleEvent(type: UpgradeEvent['type'], service: string): Record<string, unknown> {
  const event: Record<string, unknown> = { type, service, runId: 'run-sample' }
  for (const [field, spec] of Object.entries(UPGRADE_EVENTS[type]) as [string, string][]) event[field] = SAMPLE[spec.replace('?', '') as keyof EventFieldTypes]
  return event
}

async function metricValue(port: number, series: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const line = text.split('\n').find((l) => series.test(l))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

t.test('the agent accepts an event of every type in the vocabulary, with every optional field', async (t) => {
  const { socketPath } = await startTestAgent(t)
  t.ok(UPGRADE_EVENT_TYPES.includes('phase-undo-started'), 'the vocabulary has the undo start')
  for (const type of UPGRADE_EVENT_TYPES) {
    const answer = await adminRaw(socketPath, 'POST', '/v1/events', JSON.stringify(sampleEvent(type, 'vocab')))
    t.equal(answer.status, 200, `${type} accepted`)
  }
  const missing = { ...sampleEvent('phase-undone', 'vocab'), ok: undefined }
  t.match(await adminRaw(socketPath, 'POST', '/v1/events', JSON.stringify(missing)), { status: 400, json: { error: { message: /^body\.ok: must be true or false/ } } }, 'a required field is still required')
  const badOptional = { ...sampleEvent('phase-undone', 'vocab'), errorCode: 7 }
  t.match(await adminRaw(socketPath, 'POST', '/v1/events', JSON.stringify(badOptional)), { status: 400, json: { error: { message: /^body\.errorCode:/ } } }, 'an optional field present is checked')
})

t.test('a rollback reports every event to the agent, and the metrics count it', async (t) => {
  const test = await startTestAgent(t)
  const service = 'rollback-events'
  const sent: UpgradeEvent[] = []
  const bus = new EventBus()
  // Required, so a refused report fails the run instead of passing unnoticed.
  bus.subscribe(async (event) => {
    sent.push(event)
    await test.client.reportEvent(event)
  }, { required: true })
  const phase = (name: Phase['name'], options: { fail?: boolean; failUndo?: boolean } = {}): Phase => ({
    name,
    async forward() {
      if (options.fail) throw new BrokenError(`${name} broke`)
    },
    async undo() {
      if (options.failUndo) throw new BrokenError(`undo of ${name} broke`)
    },
  })
  const context = fakeContext({ service })
  await bus.emit({ type: 'run-started', service, runId: context.runId, fromVersion: '1', toVersion: '2', mode: 'strict' })
  const outcome = await runPhases([phase('preflight'), phase('disable-standby'), phase('upgrade-standby', { fail: true })], context, bus)
  await bus.emit({ type: 'run-finished', service, runId: context.runId, result: outcome.result, durationSeconds: 0.5 })
  t.equal(outcome.result, 'rolled_back')
  t.same(
    sent.map((event) => event.type),
    ['run-started', 'phase-started', 'phase-completed', 'phase-started', 'phase-completed', 'phase-started', 'phase-failed',
      'phase-undo-started', 'phase-undone', 'phase-undo-started', 'phase-undone', 'phase-undo-started', 'phase-undone', 'run-finished'],
    'every event of the rollback was accepted by the agent',
  )
  const port = test.agent.metricsPort
  t.equal(await metricValue(port, new RegExp(`^handover_upgrade_rollbacks_total\\{service="${service}"\\}`)), 1, 'one rollback counted')
  t.equal(await metricValue(port, new RegExp(`^handover_upgrade_rollbacks_started_total\\{service="${service}"\\}`)), 1, 'one rollback started, counted once for three undos')
  for (const undone of ['preflight', 'disable-standby', 'upgrade-standby']) {
    const series = new RegExp(`^handover_upgrade_phase_duration_seconds_count\\{service="${service}",phase="${undone}",result="undone"\\}`)
    t.equal(await metricValue(port, series), 1, `the undo of ${undone} is in the phase durations`)
  }
})

t.test('an undo that fails counts as undo_failed and leaves a started rollback without a finished one', async (t) => {
  const test = await startTestAgent(t)
  const service = 'rollback-stuck'
  const bus = new EventBus()
  bus.subscribe((event) => test.client.reportEvent(event), { required: true })
  const context = fakeContext({ service })
  const phases: Phase[] = [
    { name: 'preflight', forward: async () => {}, undo: async () => { throw new BrokenError('no way back') } },
    { name: 'backup', forward: async () => { throw new BrokenError('disk full') } },
  ]
  const outcome = await runPhases(phases, context, bus)
  await bus.emit({ type: 'run-finished', service, runId: context.runId, result: outcome.result, durationSeconds: 0.1 })
  t.equal(outcome.result, 'failed')
  const port = test.agent.metricsPort
  t.equal(await metricValue(port, new RegExp(`^handover_upgrade_phase_duration_seconds_count\\{service="${service}",phase="preflight",result="undo_failed"\\}`)), 1)
  t.equal(await metricValue(port, new RegExp(`^handover_upgrade_rollbacks_started_total\\{service="${service}"\\}`)), 1)
  t.equal(await metricValue(port, new RegExp(`^handover_upgrade_rollbacks_total\\{service="${service}"\\}`)), undefined, 'no finished rollback')
})
