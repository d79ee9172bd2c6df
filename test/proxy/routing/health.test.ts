import t from 'tap'
import { route, startTestAgent } from '../fixtures/agent.js'
import { send, waitFor } from '../fixtures/http-client.js'
import { REFUSED_PORT, startUpstreams } from '../fixtures/upstream.js'

t.test('passive: a slot whose connections keep being refused stops getting requests', async (t) => {
  const { green } = await startUpstreams(t)
  const { client, agent } = await startTestAgent(t)
  const { listen } = await client.putService(route('shop', { blue: REFUSED_PORT, green: green.port }))
  await waitFor(async () => {
    t.equal((await send(listen.port).reply).status, 200, 'every GET is served (retried on green when blue refuses)')
    return !(await client.getService('shop')).slots.blue.healthy
  }, 'blue to be judged unhealthy')
  const retriesBefore = (await agent.registry.getSingleMetric('handover_proxy_upstream_retries_total')!.get()).values[0]!.value
  for (let i = 0; i < 4; i++) t.equal((await send(listen.port, { method: 'POST', body: Buffer.from('x') }).reply).headers['x-served-by'], 'green')
  const retriesAfter = (await agent.registry.getSingleMetric('handover_proxy_upstream_retries_total')!.get()).values[0]!.value
  t.equal(retriesAfter, retriesBefore, 'no request is tried on the unhealthy slot any more')
  const text = await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`).then((r) => r.text())
  t.match(text, /^handover_proxy_slot_healthy\{service="shop",slot="blue"\} 0$/m)
})

t.test('active: a failing health check takes a slot out; passing checks bring it back', async (t) => {
  const { blue, green } = await startUpstreams(t)
  const { client } = await startTestAgent(t)
  const health = { path: '/healthz', intervalSeconds: 0.05, timeoutSeconds: 0.04, unhealthyThreshold: 2, healthyThreshold: 2 }
  const { listen } = await client.putService(route('shop', { blue: blue.port, green: green.port }, undefined, undefined, { health }))
  await waitFor(() => blue.healthChecks >= 2 && green.healthChecks >= 2, 'health checks on both slots')
  blue.sick = true
  await waitFor(async () => !(await client.getService('shop')).slots.blue.healthy, 'blue to be judged unhealthy')
  const before = blue.received.length
  for (let i = 0; i < 4; i++) t.equal((await send(listen.port).reply).headers['x-served-by'], 'green')
  t.equal(blue.received.length, before, 'the unhealthy slot got no request')
  blue.sick = false
  await waitFor(async () => (await client.getService('shop')).slots.blue.healthy, 'blue to be healthy again')
  const servedBy = new Set<string>()
  for (let i = 0; i < 4; i++) servedBy.add((await send(listen.port).reply).headers['x-served-by'] as string)
  t.same([...servedBy].sort(), ['blue', 'green'], 'both slots serve again')
})

t.test('an active check that hangs past its timeout counts as failed', async (t) => {
  const { blue, green } = await startUpstreams(t)
  const { client } = await startTestAgent(t)
  // /slow never answers until the gate opens: every check times out.
  const health = { path: '/slow', intervalSeconds: 0.05, timeoutSeconds: 0.03, unhealthyThreshold: 2, healthyThreshold: 1 }
  await client.putService(route('shop', { blue: blue.port, green: green.port }, undefined, undefined, { health }))
  await waitFor(async () => {
    const status = await client.getService('shop')
    return !status.slots.blue.healthy && !status.slots.green.healthy
  }, 'both slots to be judged unhealthy')
  const status = await client.getService('shop')
  t.same([status.slots.blue.healthy, status.slots.green.healthy], [false, false], 'timed-out checks mark both slots unhealthy')
  t.ok(blue.parkedCount > 0 && green.parkedCount > 0, 'by checks that reached /slow and hung there, not by refused connections')
})
