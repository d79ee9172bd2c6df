import t from 'tap'
import { route, startShop, startTestAgent } from './fixtures/agent.js'
import { send, waitFor } from './fixtures/http-client.js'
import { startUpstreams } from './fixtures/upstream.js'

t.test('closing the agent answers held requests 503 instead of leaving them hanging', async (t) => {
  const { blue, green, agent, client, port } = await startShop(t, { blue: 'active', green: 'disabled' })
  await client.flip('shop', 'green')
  const held = [send(port), send(port, { method: 'POST', body: Buffer.alloc(100_000, 1) })]
  await waitFor(async () => (await client.getService('shop')).buffered === 2, 'two held')
  await agent.close()
  for (const { reply } of held) {
    const answer = await reply
    t.equal(answer.status, 503)
    t.equal(answer.headers['retry-after'], '1')
    t.match(answer.body, /shutting down/)
  }
  t.equal(green.received.length + blue.received.length, 0)
  const rejected = (await agent.registry.getSingleMetric('handover_proxy_buffer_rejections_total')!.get()).values
  t.same(rejected.map((v) => [v.labels.reason, v.value]), [['shutdown', 2]], 'counted as shutdown rejections')
})

t.test('closing the agent lets in-flight requests finish', async (t) => {
  const { blue, agent, port } = await startShop(t, { blue: 'active', green: 'disabled' })
  const slow = send(port, { path: '/slow' })
  await waitFor(() => blue.parkedCount === 1, 'the slow request to reach blue')
  const closing = agent.close()
  blue.openGate()
  t.equal((await slow.reply).status, 200)
  await closing
})

t.test('two agents run side by side in one process', async (t) => {
  const { blue, green } = await startUpstreams(t)
  const one = await startTestAgent(t)
  const two = await startTestAgent(t)
  t.not(one.agent.metricsPort, two.agent.metricsPort)
  const a = await one.client.putService(route('shop', { blue: blue.port, green: green.port }))
  const b = await two.client.putService(route('shop', { blue: blue.port, green: green.port }))
  t.equal((await send(a.listen.port).reply).status, 200)
  t.equal((await send(b.listen.port).reply).status, 200)
  t.equal((await send(b.listen.port).reply).status, 200)
  const count = async (agent: typeof one.agent) =>
    (await agent.registry.getSingleMetric('handover_proxy_requests_total')!.get()).values.reduce((sum, v) => sum + v.value, 0)
  t.equal(await count(one.agent), 1)
  t.equal(await count(two.agent), 2)
})
