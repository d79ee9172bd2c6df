/**
 * The facts a phase reports travel the one event stream to its three readers: a real agent
 * process counts them in /metrics and logs them with the run id, the journal on the real
 * MariaDB keeps them with the phase that reported them, and the CLI prints its lines from
 * them. A fact the journal cannot store fails the phase, like a step row it cannot write.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../scripts/lib/free-port.js'
import { startAgentProcess } from '../../scripts/lib/handover-process.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import type { HandoverConfig } from '../../src/config/config.js'
import { connect } from '../../src/db/connection.js'
import { Journal } from '../../src/db/journal/journal.js'
import { summarizeFacts } from '../../src/cli/run-summary.js'
import { progressPrinter } from '../../src/cli/progress-printer.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { PHASE_NAMES } from '../../src/protocol/phases.js'
import type { UpgradeFactReport } from '../../src/protocol/events.js'
import { DockerRuntime } from '../../src/runtime/docker-runtime.js'
import { EventBus } from '../../src/upgrade/reporting/event-bus.js'
import { journalRecorder } from '../../src/upgrade/reporting/journal-recorder.js'
import { runPhases } from '../../src/upgrade/run/phase-runner.js'
import { buildRunContext } from '../../src/upgrade/run/run-context.js'
import type { Phase } from '../../src/upgrade/run/upgrade-context.js'
import { createTestDatabase } from '../support/test-database.js'

const CONTRACT_FACTS: UpgradeFactReport[] = [
  { type: 'statement-applied', part: 'contract', script: 'v2.sql', line: 7, durationSeconds: 0.012, outcome: 'ran', algorithm: 'INSTANT', rowsTouched: 0 },
  { type: 'soft-drop-made', script: 'v2.sql', table: 'people', column: 'name', softName: '_handover_name' },
  { type: 'statement-applied', part: 'contract', script: 'v2.sql', line: 9, durationSeconds: 0.2, outcome: 'ran', rowsTouched: 1500 },
  { type: 'point-of-no-return-crossed', slot: 'green' },
  { type: 'requests-released', slot: 'green', released: 37, longestHoldSeconds: 0.84 },
]

function testConfig(service: string, database: HandoverConfig['database']): HandoverConfig {
  const phases = Object.fromEntries(PHASE_NAMES.map((name) => [name, 30]))
  // Only what the run context and the phase runner read.
  return { service: { name: service }, database, migrations: {}, timeouts: { phases, cancelGraceSeconds: 2 } } as unknown as HandoverConfig
}

t.test('a phase reports facts: agent metrics and log, journal rows, CLI lines', async (t) => {
  const test = await createTestDatabase('runfacts')
  t.teardown(test.cleanup)
  const dir = mkdtempSync(join(tmpdir(), 'facts-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const logs: string[] = []
  const socket = join(dir, 'agent.sock')
  const agent = await startAgentProcess({ socket, stateFile: join(dir, 'routes.json'), metricsPort: await freePort(), onLog: (line) => logs.push(line) })
  t.teardown(agent.stop)

  const db = await connect(test.config)
  t.teardown(() => db.end())
  await Journal.ensureTables(db, test.journalSchema)
  const journal = new Journal(db, test.journalSchema)
  const service = `facts-${Math.random().toString(36).slice(2, 8)}`
  const runId = crypto.randomUUID()
  const config = testConfig(service, test.config)
  const client = new AdminClient(socket)
  const bus = new EventBus()
  const printed: string[] = []
  bus.subscribe(journalRecorder(journal), { required: true })
  bus.subscribe((event) => client.reportEvent(event), { required: true })
  bus.subscribe(progressPrinter({ out: (line) => printed.push(line), err: () => {} }, PHASE_NAMES), { required: false })
  const context = buildRunContext({ config, proxy: client, bus }, new DockerRuntime(), db, journal, { runId, standby: 'green', active: 'blue', from: { image: 'demo:1', version: '1' }, to: { image: 'demo:2', version: '2' }, scripts: [] })
  await journal.startRun({ id: runId, service, fromVersion: '1', toVersion: '2', fromImage: 'demo:1', toImage: 'demo:2', standbySlot: 'green' }, 'tester', 'host')

  const contract: Phase = { name: 'contract', forward: async (ctx) => CONTRACT_FACTS.forEach((fact) => ctx.report(fact)) }
  const finalize: Phase = { name: 'finalize', forward: async (ctx) => ctx.report({ type: 'soft-drops-purged', names: ['people._handover_name'] }) }
  await bus.emit({ type: 'run-started', service, runId, fromVersion: '1', toVersion: '2', mode: 'strict' })
  const outcome = await runPhases([contract, finalize], context, bus)
  await bus.emit({ type: 'run-finished', service, runId, result: outcome.result, durationSeconds: 1 })
  t.equal(outcome.result, 'succeeded')

  const stored = await journal.facts.ofRun(runId, service)
  t.same(stored.map((row) => `${row.phase} ${row.fact.type}`), [...CONTRACT_FACTS.map((fact) => `contract ${fact.type}`), 'finalize soft-drops-purged'], 'the journal has every fact, in order, with its phase')
  t.match(stored[4]!.fact, { slot: 'green', released: 37, longestHoldSeconds: 0.84 }, 'with its fields')
  t.same(summarizeFacts(stored), {
    statements: 2,
    rowsTouched: 1500,
    heldRequestsReleased: 37,
    longestHoldSeconds: 0.84,
    softDropsMade: 1,
    softDropsPurged: 1,
    containersReplaced: 0,
    pointOfNoReturnCrossedAt: stored[3]!.at,
    backupBytes: null,
  }, 'history folds them into its summary')

  t.same(printed.filter((line) => line.startsWith(' '.repeat(13))).map((line) => line.trim()), [
    'contract v2.sql:7 12ms INSTANT, 0 rows',
    'v2.sql: people.name kept as _handover_name until finalize',
    'contract v2.sql:9 200ms, 1500 rows',
    'point of no return crossed: green serves the new version',
    'released 37 held requests to green (longest held 0.840s)',
    'dropped for real: people._handover_name',
  ], 'the CLI prints a line for each fact')

  const metrics = await (await fetch(agent.metricsUrl)).text()
  const value = (series: string): number | undefined => {
    const line = metrics.split('\n').find((l) => l.startsWith(series + ' '))
    return line === undefined ? undefined : Number(line.slice(series.length + 1))
  }
  t.equal(value(`handover_migration_statements_total{service="${service}",part="contract",algorithm="INSTANT",outcome="ran"}`), 1, 'statements by part and algorithm')
  t.equal(value(`handover_migration_statements_total{service="${service}",part="contract",algorithm="none",outcome="ran"}`), 1)
  t.equal(value(`handover_migration_rows_touched_total{service="${service}",part="contract"}`), 1500, 'rows touched')
  t.equal(value(`handover_migration_statement_duration_seconds_count{service="${service}",part="contract"}`), 2, 'statement durations')
  t.equal(value(`handover_upgrade_held_requests_released_total{service="${service}",slot="green"}`), 37, 'held requests released')
  t.equal(value(`handover_soft_drops_total{service="${service}",action="made"}`), 1, 'soft drops made')
  t.equal(value(`handover_soft_drops_total{service="${service}",action="purged"}`), 1, 'and purged')
  t.equal(value(`handover_upgrade_point_of_no_return_crossed_total{service="${service}"}`), 1, 'the crossing')
  t.equal(value(`handover_upgrade_point_of_no_return_passed{service="${service}"}`), 1, 'the gauge follows the crossing fact')

  await waitUntil(() => logs.some((line) => line.includes('"fact":"requests-released"')), 5000, 'the agent to log the release')
  const released = JSON.parse(logs.find((line) => line.includes('"fact":"requests-released"'))!) as Record<string, unknown>
  t.match(released, { msg: 'upgrade fact', service, runId, fact: 'requests-released', released: 37, longestHoldSeconds: 0.84 }, 'the agent logs each fact with the run id')
})

t.test('a fact the journal cannot store fails its phase', async (t) => {
  const test = await createTestDatabase('runfacts')
  t.teardown(test.cleanup)
  const db = await connect(test.config)
  t.teardown(() => db.end())
  await Journal.ensureTables(db, test.journalSchema)
  const journal = new Journal(db, test.journalSchema)
  await db.query(`DROP TABLE \`${test.journalSchema}\`.handover_run_facts`)
  const bus = new EventBus()
  bus.subscribe(journalRecorder(journal), { required: true })
  const runId = crypto.randomUUID()
  const config = testConfig('facts-broken', test.config)
  const context = buildRunContext({ config, proxy: new AdminClient(join(tmpdir(), 'none.sock')), bus }, new DockerRuntime(), db, journal, { runId, standby: 'green', active: 'blue', from: { image: 'demo:1', version: '1' }, to: { image: 'demo:2', version: '2' }, scripts: [] })
  const backup: Phase = { name: 'backup', forward: async (ctx) => ctx.report({ type: 'backup-written', file: '/tmp/x.sql', bytes: 10 }) }
  const outcome = await runPhases([backup], context, bus)
  t.equal(outcome.result, 'rolled_back', 'the phase failed, so the run rolled back')
  t.match(outcome.error, { code: 'UNEXPECTED', message: /handover_run_facts/ }, 'naming the table that could not be written')
})
