/**
 * A step row is in the journal before its action starts, not written beside it: a crash in
 * the first moments of a phase must still leave a row saying the phase began. The test holds
 * a write lock on the steps table, so the row can only be written once the lock goes; the
 * phase must not start before that.
 */
import t from 'tap'
import mysql, { type RowDataPacket } from 'mysql2/promise'
import { connect } from '../../src/db/connection.js'
import { Journal } from '../../src/db/journal/journal.js'
import { HandoverError } from '../../src/errors.js'
import { EventBus } from '../../src/upgrade/reporting/event-bus.js'
import { journalRecorder } from '../../src/upgrade/reporting/journal-recorder.js'
import { runPhases } from '../../src/upgrade/run/phase-runner.js'
import type { Phase } from '../../src/upgrade/run/upgrade-context.js'
import { createTestDatabase, dbPassword } from '../support/test-database.js'
import { fakeContext } from './fixtures/fake-context.js'

class BrokeError extends HandoverError {
  readonly code = 'BROKE'
}

const HOLD_MS = 400

t.test('each phase and undo starts only after its step row is written', async (t) => {
  const test = await createTestDatabase('journalrec')
  t.teardown(test.cleanup)
  const db = await connect(test.config)
  const holder = await mysql.createConnection({ host: '127.0.0.1', user: 'handover', password: dbPassword() })
  t.teardown(() => Promise.all([db.end(), holder.end()]))
  await Journal.ensureTables(db, test.journalSchema)
  const journal = new Journal(db, test.journalSchema)
  const context = fakeContext({ service: 'journaled' })
  await journal.startRun({ id: context.runId, service: 'journaled', fromVersion: '1', toVersion: '2', fromImage: 'a:1', toImage: 'a:2', standbySlot: 'green' }, 'test', 'host')
  const bus = new EventBus()
  bus.subscribe(journalRecorder(journal), { required: true })

  const steps = async () => {
    const [rows] = await holder.query<RowDataPacket[]>(`SELECT phase, action, status FROM \`${test.journalSchema}\`.handover_steps WHERE run_id = ? ORDER BY id`, [context.runId])
    return rows.map((row) => `${row.action} ${row.phase} ${row.status}`)
  }
  // Locks the steps table for HOLD_MS; returns when it was released.
  const holdSteps = async (): Promise<{ released: Promise<number> }> => {
    await holder.query(`LOCK TABLES \`${test.journalSchema}\`.handover_steps WRITE`)
    return {
      released: new Promise((resolve) =>
        setTimeout(() => {
          const at = performance.now()
          void holder.query('UNLOCK TABLES').then(() => resolve(at))
        }, HOLD_MS),
      ),
    }
  }
  const seen: { what: string; at: number; steps: string[] }[] = []
  let unlocks: Promise<number>[] = []
  const phase: Phase = {
    name: 'backup',
    async forward() {
      seen.push({ what: 'forward', at: performance.now(), steps: await steps() })
      unlocks.push((await holdSteps()).released) // the failure's row and the undo's row wait too
      throw new BrokeError('broke')
    },
    async undo() {
      seen.push({ what: 'undo', at: performance.now(), steps: await steps() })
    },
  }
  unlocks = [(await holdSteps()).released]
  const outcome = await runPhases([phase], context, bus)
  t.equal(outcome.result, 'rolled_back')
  const [firstUnlock, secondUnlock] = await Promise.all(unlocks)
  t.ok(seen[0]!.at >= firstUnlock!, `the forward started after the step row could be written (${(seen[0]!.at - firstUnlock!).toFixed(0)} ms after)`)
  t.same(seen[0]!.steps, ['forward backup started'], 'and its row was there when it started')
  t.ok(seen[1]!.at >= secondUnlock!, 'the undo started after its row could be written')
  t.same(seen[1]!.steps, ['forward backup failed', 'undo backup started'], 'the failure was closed and the undo opened before the undo ran')
  t.same(await steps(), ['forward backup failed', 'undo backup completed'])
})
