/**
 * Two upgrades of one service at once: the second is refused. GET_LOCK answers 0 on a
 * timeout (it never throws), so a lock taken without checking its answer for 1 lets the
 * second run go ahead: these tests fail then.
 */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import mysql, { type RowDataPacket } from 'mysql2/promise'
import type { HandoverConfig } from '../../../src/config/config.js'
import { connect } from '../../../src/db/connection.js'
import { withServiceLock } from '../../../src/db/journal/locked-session.js'
import { LockHeldError, ServiceLock } from '../../../src/db/journal/service-lock.js'
import { DEMO_IMAGES, ensureDemoImages } from '../../../scripts/lib/demo-images.js'
import { freePort } from '../../../scripts/lib/free-port.js'
import { runHandover } from '../../../scripts/lib/handover-process.js'
import { configYaml } from '../../../scripts/lib/throwaway-service.js'
import { createTestDatabase, dbPassword } from '../../support/test-database.js'

t.test('a second holder of a service lock is refused and told who holds it, until the first releases it', async (t) => {
  const test = await createTestDatabase('lock')
  t.teardown(test.cleanup)
  const [first, second] = [await connect(test.config), await connect(test.config)]
  t.teardown(() => Promise.all([first.end(), second.end()]))
  const service = `lock-${test.schema.slice(-6)}`
  const held = await ServiceLock.acquire(first, service)
  const refused = await ServiceLock.acquire(second, service).catch((error: unknown) => error)
  t.ok(refused instanceof LockHeldError, 'the second acquire is refused')
  t.equal((refused as LockHeldError).holderConnectionId, String(first.threadId), 'naming the connection that holds it')
  const [free] = await second.query<RowDataPacket[]>('SELECT IS_FREE_LOCK(?) AS free', [`handover:${service}`])
  t.equal(Number(free[0]!.free), 0, 'the lock is still the first holder\'s')
  await held.release()
  const next = await ServiceLock.acquire(second, service)
  t.ok(next, 'once released, the next one gets it')
  await next.release()
})

t.test('withServiceLock: the second of two concurrent runs never starts its work', async (t) => {
  const test = await createTestDatabase('lock')
  t.teardown(test.cleanup)
  const config = { service: { name: `lockrun-${test.schema.slice(-6)}` }, database: test.config } as unknown as HandoverConfig
  let releaseFirst!: () => void
  const firstMayEnd = new Promise<void>((resolve) => (releaseFirst = resolve))
  let firstStarted!: () => void
  const firstIsIn = new Promise<void>((resolve) => (firstStarted = resolve))
  const ran: string[] = []
  const firstRun = withServiceLock(config, async () => {
    ran.push('first')
    firstStarted()
    await firstMayEnd
  })
  await firstIsIn
  const second = await withServiceLock(config, async () => void ran.push('second')).catch((error: unknown) => error)
  t.match(second, { code: 'LOCK_HELD' }, 'the second run is refused')
  t.same(ran, ['first'], 'and its work did not run')
  releaseFirst()
  await firstRun
  await withServiceLock(config, async () => void ran.push('third'))
  t.same(ran, ['first', 'third'], 'after the first run the lock is free again')
})

t.test('`handover upgrade` is refused while another run holds the service lock, before it changes anything', async (t) => {
  await ensureDemoImages()
  const test = await createTestDatabase('lock')
  t.teardown(test.cleanup)
  const dir = t.testdir({})
  const name = `lockcli-${test.schema.slice(-6)}`
  const file = join(dir, 'handover.yaml')
  writeFileSync(file, configYaml({ name, schema: test.schema, dir, proxyPort: await freePort(), blue: await freePort(), green: await freePort(), maxWaitSeconds: 10, migrationsDir: dir }))
  const holder = await mysql.createConnection({ host: '127.0.0.1', user: 'handover', password: dbPassword() })
  t.teardown(() => holder.end())
  const [got] = await holder.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [`handover:${name}`])
  t.equal(Number(got[0]!.got), 1, 'the test holds the lock, as a running upgrade would')
  const upgrade = await runHandover(['upgrade', '--config', file, '--image', DEMO_IMAGES['2']])
  t.equal(upgrade.code, 1, 'the upgrade exits 1')
  t.match(upgrade.stderr, new RegExp(`LOCK_HELD.*another handover run holds handover:${name} \\(MySQL connection ${holder.threadId}\\)`), 'naming the lock and its holder')
  const [runs] = await holder.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`handover_test_journal\`.handover_runs WHERE service = ?`, [name]).catch(() => [[{ n: 0 }]] as unknown as [RowDataPacket[]])
  t.equal(Number(runs[0]!.n), 0, 'no run was journaled')
})
