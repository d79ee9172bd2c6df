import { once } from 'node:events'
import t from 'tap'
import { DrainTracker } from '../../../src/proxy/routing/drain-tracker.js'
import { startShop } from '../fixtures/agent.js'
import { send } from '../fixtures/http-client.js'

t.test('wait resolves when the count reaches zero, or reports the count at the timeout', async (t) => {
  const drained: number[] = []
  const tracker = new DrainTracker((seconds) => drained.push(seconds))
  t.same(await tracker.wait(10), { drained: true, inFlight: 0 }, 'already drained')
  tracker.begin()
  tracker.begin()
  t.same(await tracker.wait(20), { drained: false, inFlight: 2 }, 'timed out')
  tracker.startDraining()
  const waiting = tracker.wait(5000)
  tracker.end()
  tracker.end()
  t.same(await waiting, { drained: true, inFlight: 0 }, 'woken by the last end()')
  t.equal(drained.length, 1, 'drain duration observed once')
})

t.test('wait-drained over the admin API: false at the timeout, true once the slow request completes', async (t) => {
  const { blue, client, port } = await startShop(t, { blue: 'active', green: 'disabled' })
  const slow = send(port, { path: '/slow' })
  await once(blue, 'parked')
  await client.setSlotState('shop', 'blue', 'draining')
  t.same(await client.waitDrained('shop', 'blue', 0.1), { drained: false, inFlight: 1 })
  const waiting = client.waitDrained('shop', 'blue', 30)
  blue.openGate()
  t.equal((await slow.reply).status, 200)
  t.same(await waiting, { drained: true, inFlight: 0 })
})
