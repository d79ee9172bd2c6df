import t from 'tap'
import type { Registry } from 'prom-client'
import { route, startShop, startTestAgent, type Teardown } from './fixtures/agent.js'
import { send } from './fixtures/http-client.js'
import { REFUSED_PORT, startUpstreams } from './fixtures/upstream.js'

async function retries(registry: Registry, slot: string): Promise<number> {
  const values = (await registry.getSingleMetric('handover_proxy_upstream_retries_total')!.get()).values
  return values.find((v) => v.labels.slot === slot)?.value ?? 0
}

/** Blue's port has nothing listening: connections to it are refused. */
async function refusingBlue(t: Teardown) {
  const { green } = await startUpstreams(t)
  const test = await startTestAgent(t)
  const { listen } = await test.client.putService(route('shop', { blue: REFUSED_PORT, green: green.port }))
  return { ...test, port: listen.port, green }
}

t.test('a refused idempotent request is retried once on the other active slot', async (t) => {
  const { port, green, agent } = await refusingBlue(t)
  const first = await send(port, { method: 'PUT', body: Buffer.from('same body'), headers: { 'x-test-id': 'put' } }).reply
  const second = await send(port, { headers: { 'x-test-id': 'get' } }).reply
  t.same([first.status, second.status], [200, 200])
  t.same([first.headers['x-served-by'], second.headers['x-served-by']], ['green', 'green'])
  t.equal(JSON.parse(first.body).length, 9, 'the retried PUT carried its body')
  t.ok((await retries(agent.registry, 'blue')) >= 1, 'the retry is counted against the slot that refused')
  t.match(JSON.parse(second.body).headers['x-request-id'], /^[0-9a-f-]{36}$/)
  t.ok(green.received.length >= 2)
})

t.test('a refused POST is not retried: 502 that names the slot', async (t) => {
  const { port, green } = await refusingBlue(t)
  const answers = []
  for (let i = 0; i < 2; i++) answers.push(await send(port, { method: 'POST', body: Buffer.from('once'), headers: { 'x-test-id': String(i) } }).reply)
  const refused = answers.find((a) => a.status === 502)
  t.ok(refused, 'the POST that went to blue failed')
  t.match(refused!.body, /bad gateway: shop slot blue \(127\.0\.0\.1:\d+\) failed: ECONNREFUSED/)
  t.equal(green.received.length, 1, 'green got only the POST that was sent to it')
})

t.test('a GET reset before any response byte is retried; a reset after part of a response is not', async (t) => {
  const { blue, green, agent, port } = await startShop(t)
  const reset = await send(port, { path: '/reset' }).reply
  t.equal(reset.status, 502, 'both slots reset /reset: after one retry the answer is 502')
  t.equal(blue.received.filter((r) => r.url === '/reset').length + green.received.filter((r) => r.url === '/reset').length, 2, 'tried exactly twice')
  t.equal((await retries(agent.registry, 'blue')) + (await retries(agent.registry, 'green')), 1)
  const ids = [...blue.received, ...green.received].filter((r) => r.url === '/reset').map((r) => r.headers['x-request-id'])
  t.equal(new Set(ids).size, 1, 'both attempts carry the same request id')

  const partial = send(port, { path: '/partial' }).reply
  await t.rejects(partial, 'a response cut after its first bytes is cut for the client too')
  t.equal(blue.received.filter((r) => r.url === '/partial').length + green.received.filter((r) => r.url === '/partial').length, 1, 'never retried')
})

t.test('a POST reset before any response byte is not retried', async (t) => {
  const { blue, green, port } = await startShop(t)
  const reply = await send(port, { method: 'POST', path: '/reset', body: Buffer.from('x') }).reply
  t.equal(reply.status, 502)
  t.match(reply.body, /^bad gateway: shop slot (blue|green) /)
  t.equal(blue.received.length + green.received.length, 1)
})
