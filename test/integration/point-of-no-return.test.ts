/**
 * Past the point of no return nothing is undone: v2 has served and written in the new shape
 * only, so undoing the contract would hand v1 stale rows. A phase after the contract fails
 * here (an injected upgrade-old); the real phases before it ran against a real service.
 */
import t from 'tap'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { loadConfig } from '../../src/config/load-config.js'
import { HandoverError } from '../../src/errors.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import type { UpgradeEvent } from '../../src/protocol/events.js'
import { EventBus } from '../../src/upgrade/reporting/event-bus.js'
import { runUpgrade } from '../../src/upgrade/run/run-upgrade.js'
import { STRICT_PHASES } from '../../src/upgrade/run/strict-phases.js'
import type { Phase } from '../../src/upgrade/run/upgrade-context.js'
import { columnsOf } from '../support/test-database.js'
import { createTestService, JOURNAL_SCHEMA, removeLeftovers } from '../../scripts/lib/throwaway-service.js'

class OldSlotBrokeError extends HandoverError {
  readonly code = 'OLD_SLOT_BROKE'
}

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-ponr')
})

t.test('a phase failing after the contract undoes nothing: v2 keeps serving on its schema, and the run says why', async (t) => {
  const svc = await createTestService('it-ponr')
  t.teardown(svc.cleanup)
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  t.equal(deploy.code, 0, 'deployed v1', { output: deploy.stdout + deploy.stderr })

  const undos: string[] = []
  const brokenUpgradeOld: Phase = {
    name: 'upgrade-old',
    forward: async () => {
      throw new OldSlotBrokeError('the old slot cannot take the new image')
    },
    undo: async () => void undos.push('upgrade-old'),
  }
  const phases = STRICT_PHASES.map((phase) => (phase.name === 'upgrade-old' ? brokenUpgradeOld : phase))
  const events: UpgradeEvent[] = []
  const bus = new EventBus()
  bus.subscribe((event) => void events.push(event), { required: true })
  const proxy = new AdminClient(join(svc.dir, 'agent.sock'))
  const report = await runUpgrade({ config: loadConfig(svc.configFile), image: DEMO_IMAGES['2'], proxy, bus, phases })

  t.match(report, { result: 'failed', failedPhase: 'upgrade-old', pointOfNoReturnPassed: true, error: { code: 'OLD_SLOT_BROKE' } })
  t.equal(report.undoError, undefined)
  t.same(undos, [], 'not even the failed phase was undone')
  t.notOk(events.some((event) => event.type === 'phase-undo-started'), 'no undo event at all')
  t.same(
    events.filter((event) => event.type === 'phase-completed').map((event) => (event as { phase: string }).phase),
    ['preflight', 'backup', 'disable-standby', 'upgrade-standby', 'expand', 'flip', 'contract'],
    'every real phase up to the contract completed',
  )

  const columns = await columnsOf(svc.db, svc.schema, 'people')
  t.ok(columns.includes('first_name') && columns.includes('last_name'), "v2's columns are kept")
  t.notOk(columns.includes('name'), 'the contract was not undone: name stays dropped (soft, as _handover_name)')
  t.ok(columns.includes('_handover_name'))
  const [run] = await svc.db.query<RowDataPacket[]>(`SELECT state, point_of_no_return_passed AS passed, error_code FROM ${JOURNAL_SCHEMA}.handover_runs WHERE id = ?`, [report.runId])
  t.same(run.map((row) => [row.state, Number(row.passed), row.error_code]), [['failed', 1, 'OLD_SLOT_BROKE']], 'the journal says failed past the point of no return')
  const [undoSteps] = await svc.db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${JOURNAL_SCHEMA}.handover_steps WHERE run_id = ? AND action = 'undo'`, [report.runId])
  t.equal(Number(undoSteps[0]!.n), 0, 'and has no undo step')

  const status = await proxy.getService(svc.name)
  t.equal(status.slots.green.state, 'active', 'the upgraded slot serves')
  const version = (await (await fetch(`${svc.proxyUrl}/version`)).json()) as { version: string }
  t.equal(version.version, '2', 'v2 answers through the proxy')
})
