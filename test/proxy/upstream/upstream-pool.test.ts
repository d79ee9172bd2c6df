import t from 'tap'
import { startShop } from '../fixtures/agent.js'
import { send, waitFor } from '../fixtures/http-client.js'

t.test('upstream connections are reused even when clients ask to close theirs', async (t) => {
  const { blue, port } = await startShop(t, { blue: 'active', green: 'disabled' })
  for (let i = 0; i < 5; i++) t.equal((await send(port, { headers: { connection: 'close' } }).reply).status, 200)
  t.equal(blue.connections, 1, 'one upstream connection for five requests')
})

t.test('idle upstream sockets are closed by the proxy, before the upstream would', async (t) => {
  const { blue, port } = await startShop(t, { blue: 'active', green: 'disabled' }, { upstreamIdleMs: 100 })
  await send(port).reply
  await waitFor(() => blue.openConnections === 0, 'the proxy to close its idle upstream socket', 3000)
  t.equal((await send(port).reply).status, 200, 'the next request opens a new one')
  t.equal(blue.connections, 2)
})

t.test('disabling a slot drops its pooled sockets: the replaced container gets fresh ones', async (t) => {
  const { blue, client, port } = await startShop(t, { blue: 'active', green: 'disabled' })
  await send(port).reply
  t.equal(blue.openConnections, 1, 'kept alive while active')
  await client.setSlotState('shop', 'blue', 'disabled')
  await waitFor(() => blue.openConnections === 0, 'the idle socket to be closed on disable')
  await client.setSlotState('shop', 'blue', 'active')
  t.equal((await send(port).reply).status, 200)
  t.equal(blue.connections, 2, 'a new connection after re-enabling')
})

t.test('a request in flight when its slot is disabled still completes', async (t) => {
  const { blue, client, port } = await startShop(t, { blue: 'active', green: 'disabled' })
  const slow = send(port, { path: '/slow' })
  await waitFor(() => blue.parkedCount === 1, 'the slow request to reach blue')
  await client.setSlotState('shop', 'blue', 'disabled')
  blue.openGate()
  t.equal((await slow.reply).status, 200)
  await waitFor(() => blue.openConnections === 0, 'the retired socket to close after its response')
})

t.test('while requests are held, the buffering slot gets connections for them, up to the cap', async (t) => {
  const { green, client, port } = await startShop(t, { blue: 'active', green: 'disabled' }, { upstreamMaxConnections: 3 })
  await client.flip('shop', 'green')
  const first = send(port, { path: '/a' })
  await waitFor(() => green.openConnections === 1, 'one connection to green for one held request')
  const rest = ['/b', '/c', '/d', '/e'].map((path) => send(port, { path }))
  await waitFor(async () => (await client.getService('shop')).buffered === 5, 'five held requests')
  await waitFor(() => green.openConnections === 3, 'connections to green up to the cap of 3')
  t.equal(green.received.length, 0, 'nothing forwarded while held')
  t.equal(green.connections, 3, 'no more than the cap were ever opened')
  await client.release('shop', 'green')
  const replies = await Promise.all([first, ...rest].map((request) => request.reply))
  t.same(replies.map((reply) => reply.status), [200, 200, 200, 200, 200])
  t.same(green.received.map((request) => request.url), ['/a', '/b', '/c', '/d', '/e'], 'released in arrival order over the warm connections')
  t.equal(green.connections, 3, 'the release opened no new connection')
})
