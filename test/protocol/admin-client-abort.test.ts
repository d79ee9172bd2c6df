/**
 * A cancelled phase stops waiting for the agent: an aborted admin call ends at once instead
 * of holding the phase for the call's own bound (a drain wait may last minutes).
 */
import t from 'tap'
import { startShop } from '../proxy/fixtures/agent.js'
import { waitFor } from '../proxy/fixtures/http-client.js'
import { get, RawClient } from '../proxy/fixtures/raw-client.js'

t.test('an aborted wait-drained call ends within moments of the abort, and the agent serves on', async (t) => {
  const { blue, client, port } = await startShop(t)
  const stuck = await RawClient.connect(port)
  t.teardown(() => stuck.close())
  // Keep blue busy: a request parked at the upstream's gate never finishes by itself.
  for (let i = 0; i < 10 && blue.parkedCount === 0; i++) {
    stuck.write(get('/slow'))
    await waitFor(() => blue.parkedCount > 0 || stuck.rest().length > 0, 'the request to be parked on blue or answered by green')
    if (blue.parkedCount === 0) await stuck.response()
  }
  t.equal(blue.parkedCount, 1, 'blue has a request in flight')
  await client.setSlotState('shop', 'blue', 'draining')
  const controller = new AbortController()
  const began = performance.now()
  const waiting = client.waitDrained('shop', 'blue', 60, controller.signal)
  setTimeout(() => controller.abort(new Error('phase timed out')), 200)
  const error = await waiting.catch((e: unknown) => e)
  const seconds = (performance.now() - began) / 1000
  t.match(error, { name: 'AbortError' }, 'the call ends with the abort')
  t.ok(seconds < 1.5, `after ${seconds.toFixed(2)}s, not the 60 s drain bound`)
  const status = await client.getService('shop')
  t.same([status.slots.blue.state, status.slots.blue.inFlight], ['draining', 1], 'the agent is unaffected: blue still drains its request')
  blue.openGate()
})
