/**
 * A phase past its timeout stops its real work before its undo starts: a running DDL is
 * killed on the server, a Docker health wait stops polling. Racing the work against a timer
 * (what the runner did before) starts the undo while both still run, and fails these tests.
 */
import t, { type Test } from 'tap'
import mysql, { type RowDataPacket } from 'mysql2/promise'
import { parseConfig } from '../../src/config/load-config.js'
import { connect, type Connection } from '../../src/db/connection.js'
import { parseScript } from '../../src/db/migrations/scripts/migration-script.js'
import { ensureMigrationTables, serviceExecutor } from '../../src/db/migrations/service-executor.js'
import type { SlotName } from '../../src/protocol/routes.js'
import { DockerRuntime, type SlotContainer } from '../../src/runtime/docker-runtime.js'
import { EventBus } from '../../src/upgrade/reporting/event-bus.js'
import { runPhases } from '../../src/upgrade/run/phase-runner.js'
import { upgradeStandby } from '../../src/upgrade/phases/upgrade-standby.js'
import type { Phase, UpgradeContext } from '../../src/upgrade/run/upgrade-context.js'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { freePort } from '../../scripts/lib/free-port.js'
import { configYaml, removeLeftovers } from '../../scripts/lib/throwaway-service.js'
import { createTestDatabase, dbPassword } from '../support/test-database.js'
import { fakeContext } from './fixtures/fake-context.js'

const PREFIX = 'it-cancel'

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers(PREFIX)
})
t.teardown(() => removeLeftovers(PREFIX))

async function statementOn(observer: mysql.Connection, connection: Connection): Promise<string | null> {
  const [rows] = await observer.query<RowDataPacket[]>('SELECT info FROM information_schema.processlist WHERE id = ?', [connection.threadId])
  return (rows[0]?.info as string | null | undefined) ?? null
}

t.test('an expand past its timeout has its DDL killed before the undo starts', async (t) => {
  const test = await createTestDatabase('cancelphase')
  t.teardown(test.cleanup)
  const db = await connect(test.config)
  const observer = await mysql.createConnection({ host: '127.0.0.1', user: 'handover', password: dbPassword() })
  t.teardown(() => Promise.all([db.end(), observer.end()]))
  await ensureMigrationTables(db, test.journalSchema)
  const script = parseScript('/m/v2.sql', 'v2.sql', '-- handover:expand\nCREATE TABLE slow_copy AS SELECT SLEEP(30) AS x;\n')
  const executor = serviceExecutor(db, test.config, 'cancelphase', 'run-1')
  const atUndo: { seconds: number; statement: string | null }[] = []
  const began = performance.now()
  const expand: Phase = {
    name: 'expand',
    forward: (_context, signal) => executor.applyPart([script], 'expand', undefined, signal),
    undo: async () => void atUndo.push({ seconds: (performance.now() - began) / 1000, statement: await statementOn(observer, db) }),
  }
  const outcome = await runPhases([expand], fakeContext({ timeouts: { expand: 1 }, cancelGraceSeconds: 10 }), new EventBus())
  t.equal(outcome.result, 'rolled_back')
  t.match(outcome.error, { code: 'TIMEOUT', message: 'phase expand did not finish within 1s' })
  t.equal(atUndo.length, 1)
  // The connection may be writing the statement's failure to the history at that moment; the DDL itself must be gone.
  t.notMatch(atUndo[0]!.statement ?? '', /SLEEP\(30\)/, 'when the undo started, the DDL no longer ran on the server')
  t.ok(atUndo[0]!.seconds >= 1 && atUndo[0]!.seconds < 4, `the undo started ${atUndo[0]!.seconds.toFixed(2)}s in: after the timeout, not after the 30 s statement`)
  const [tables] = await test.db.query<RowDataPacket[]>('SELECT table_name FROM information_schema.tables WHERE table_schema = ?', [test.schema])
  t.same(tables, [], 'the killed statement created nothing')
})

/** A DockerRuntime that counts inspections, to see whether a wait still polls. */
class CountingDocker extends DockerRuntime {
  inspections = 0

  override async inspectSlot(service: string, slot: SlotName, signal?: AbortSignal): Promise<SlotContainer | undefined> {
    this.inspections++
    return super.inspectSlot(service, slot, signal)
  }
}

/** A context for the slot phases of a throw-away service; `env` edits the slots' environment in the config text. */
async function slotContext(t: Test, env: (yaml: string) => string): Promise<UpgradeContext & { docker: CountingDocker }> {
  const suffix = Math.random().toString(36).slice(2, 8)
  const name = `${PREFIX}-${suffix}`
  const dir = t.testdir({})
  const yaml = env(configYaml({ name, schema: `it_cancel_${suffix}`, dir, proxyPort: await freePort(), blue: await freePort(), green: await freePort(), maxWaitSeconds: 10, migrationsDir: dir }))
  const base = fakeContext({ service: name })
  return Object.assign(base, {
    config: { ...parseConfig(yaml, `${dir}/handover.yaml`), timeouts: base.config.timeouts },
    docker: new CountingDocker(),
    standby: 'green' as const,
    active: 'blue' as const,
    from: { image: DEMO_IMAGES['1'], version: '1' },
    to: { image: DEMO_IMAGES['2'], version: '2' },
  })
}

t.test('an upgrade-standby past its timeout stops waiting on Docker before its undo starts', async (t) => {
  const deadDbPort = await freePort()
  // The database is unreachable: the container runs and answers /healthz 503, never 200.
  const context = await slotContext(t, (yaml) => yaml.replace('DB_PORT: 3306', `DB_PORT: ${deadDbPort}`))
  context.config.timeouts.phases['upgrade-standby'] = 3
  const seen: { seconds: number; inspections: number; later: number }[] = []
  const began = performance.now()
  const phase: Phase = {
    name: 'upgrade-standby',
    forward: (ctx, signal) => upgradeStandby.forward(ctx, signal),
    async undo() {
      const inspections = context.docker.inspections
      const seconds = (performance.now() - began) / 1000
      await new Promise((resolve) => setTimeout(resolve, 1000))
      seen.push({ seconds, inspections, later: context.docker.inspections })
    },
  }
  const outcome = await runPhases([phase], context, new EventBus())
  t.match(outcome, { result: 'rolled_back', error: { code: 'TIMEOUT' } })
  t.ok(seen[0]!.inspections > 3, `the forward polled the container while it waited (${seen[0]!.inspections} inspections)`)
  t.equal(seen[0]!.later, seen[0]!.inspections, 'and polled no more once its undo had started')
  t.ok(seen[0]!.seconds >= 3 && seen[0]!.seconds < 6, `undo started ${seen[0]!.seconds.toFixed(2)}s in: at the 3 s timeout, not the 30 s health timeout`)
  const container = await context.docker.inspectSlot(context.config.service.name, 'green')
  t.equal(container?.running, true, 'the container itself runs on (it is the undo that replaces it)')
})

for (const [phaseName, slot] of [['upgrade-standby', 'green'], ['upgrade-old', 'blue']] as const) {
  t.test(`a container that exits at once fails ${phaseName} within 3 s, with its exit code and last log lines`, async (t) => {
    // Without DB_USER the demo service refuses its configuration and exits 2.
    const context = await slotContext(t, (yaml) => yaml.replace('    DB_USER: handover\n', ''))
    const { upgradeOld } = await import('../../src/upgrade/phases/upgrade-old.js')
    const phase = phaseName === 'upgrade-standby' ? upgradeStandby : upgradeOld
    const began = performance.now()
    const error = await phase.forward(context, new AbortController().signal).catch((e: unknown) => e)
    const seconds = (performance.now() - began) / 1000
    t.match(error, { code: 'SLOT_CRASHED', exitCode: 2, container: `handover-${context.config.service.name}-${slot}` })
    t.match((error as Error).message, /exited with code 2.*\n--- last log lines ---\n.*"msg":"invalid-configuration".*DB_USER is required/s, 'the message carries the exit code and the log')
    t.ok(seconds < 3, `failed after ${seconds.toFixed(2)}s, not the 30 s health timeout`)
  })
}
