import { randomBytes } from 'node:crypto'
import t from 'tap'
import type { Registry } from 'prom-client'
import type { AgentOptions } from '../../../src/proxy/agent.js'
import { startShop, type Teardown } from '../fixtures/agent.js'
import { send, sha256, waitFor } from '../fixtures/http-client.js'
import type { Echo } from '../fixtures/upstream.js'

async function rejections(registry: Registry, reason: string): Promise<number> {
  const metric = registry.getSingleMetric('handover_proxy_buffer_rejections_total')
  const values = (await metric!.get()).values
  return values.find((v) => v.labels.service === 'shop' && v.labels.reason === reason)?.value ?? 0
}

async function flipped(t: Teardown, buffer: { maxRequests: number; maxWaitSeconds: number; maxBytes?: number }, agentOptions: Partial<AgentOptions> = {}) {
  const shop = await startShop(t, { blue: 'active', green: 'disabled' }, agentOptions, { buffer })
  await shop.client.flip('shop', 'green')
  const buffered = (n: number) => waitFor(async () => (await shop.client.getService('shop')).buffered === n, `${n} held`)
  return { ...shop, buffered }
}

t.test('a full buffer answers 503 with Retry-After at once', async (t) => {
  const { client, agent, port, buffered } = await flipped(t, { maxRequests: 2, maxWaitSeconds: 30 })
  const held = [send(port).reply, send(port).reply]
  await buffered(2)
  const refused = await send(port).reply
  t.equal(refused.status, 503)
  t.equal(refused.headers['retry-after'], '1')
  t.match(refused.body, /buffer full/)
  t.equal(await client.release('shop', 'green').then((r) => r.released), 2)
  t.same((await Promise.all(held)).map((r) => r.status), [200, 200], 'the held ones are still served')
  t.equal(await rejections(agent.registry, 'full'), 1)
})

t.test('a request held past maxWaitSeconds gets 503 with Retry-After', async (t) => {
  const { agent, port, green } = await flipped(t, { maxRequests: 10, maxWaitSeconds: 0.2 })
  const started = Date.now()
  const reply = await send(port).reply
  t.equal(reply.status, 503)
  t.equal(reply.headers['retry-after'], '1')
  t.match(reply.body, /buffer wait exceeded/)
  t.ok(Date.now() - started >= 190, 'not before the deadline')
  t.equal(green.received.length, 0)
  t.equal(await rejections(agent.registry, 'timeout'), 1)
})

t.test('a client that leaves while held is never forwarded', async (t) => {
  const { client, port, green, buffered } = await flipped(t, { maxRequests: 10, maxWaitSeconds: 30 })
  const leaving = send(port, { headers: { 'x-test-id': 'gone' } })
  leaving.reply.catch(() => undefined)
  await buffered(1)
  leaving.request.destroy()
  await buffered(0)
  const staying = send(port, { headers: { 'x-test-id': 'stays' } })
  await buffered(1)
  t.equal(await client.release('shop', 'green').then((r) => r.released), 1)
  t.equal((await staying.reply).status, 200)
  t.same(green.received.map((r) => r.testId), ['stays'])
})

t.test('disabling the buffering slot without a release sends held requests to the active slot', async (t) => {
  const { client, port, buffered } = await flipped(t, { maxRequests: 10, maxWaitSeconds: 30 })
  const held = send(port)
  await buffered(1)
  await client.setSlotState('shop', 'blue', 'active')
  await client.setSlotState('shop', 'green', 'disabled')
  t.equal((await held.reply).headers['x-served-by'], 'blue')
})

t.test('a body that would take the buffer over maxBytes gets 503 naming the byte limit', async (t) => {
  const { client, agent, port, green, buffered } = await flipped(t, { maxRequests: 10, maxWaitSeconds: 30, maxBytes: 1000 })
  const held = send(port, { method: 'POST', body: Buffer.alloc(600, 1), headers: { 'x-test-id': 'fits' } })
  await buffered(1)
  const first = (await client.getService('shop')).bufferedBytes!
  // Its head (about 100 bytes from node:http) is held too, and counted.
  t.ok(first > 600 && first < 800, `the held body bytes and its head are counted (${first})`)
  const declared = await send(port, { method: 'POST', body: Buffer.alloc(500, 2) }).reply
  t.equal(declared.status, 503, 'a declared Content-Length over the limit is refused on arrival')
  t.equal(declared.headers['retry-after'], '1')
  t.match(declared.body, /cannot hold another 5\d\d bytes during an upgrade \(limit 1000\)/)
  const chunked = await send(port, { method: 'POST', body: Buffer.alloc(800, 3), chunked: true }).reply
  t.equal(chunked.status, 503, 'a chunked body is refused when its bytes pass the limit')
  t.match(chunked.body, /holds more than 1000 bytes/)
  t.equal(await rejections(agent.registry, 'bytes'), 2, 'each counted with reason "bytes"')
  t.equal((await client.getService('shop')).bufferedBytes, first, 'a refused body no longer counts')
  await client.release('shop', 'green')
  t.equal((await held.reply).status, 200)
  t.same(green.received.map((r) => r.testId), ['fits'])
})

t.test('held bodies larger than one read, chunked or not, arrive byte-identical', async (t) => {
  const { client, port, buffered } = await flipped(t, { maxRequests: 10, maxWaitSeconds: 30 })
  const bodies = [randomBytes(3 * 1024 * 1024), randomBytes(1024 * 1024 + 7), randomBytes(70_000)]
  const sent = bodies.map((body, i) => send(port, { method: i === 1 ? 'PUT' : 'POST', body, chunked: i !== 0 }))
  await buffered(3)
  await waitFor(async () => (await client.getService('shop')).bufferedBytes! >= bodies[0]!.length, 'the bodies to be read into the buffer', 10_000)
  await client.release('shop', 'green')
  const echoes = (await Promise.all(sent.map((s) => s.reply))).map((r) => JSON.parse(r.body) as Echo)
  t.same(echoes.map((e) => e.sha256), bodies.map(sha256))
  t.same(echoes.map((e) => e.length), bodies.map((b) => b.length))
})

t.test('a hold longer than the upstream idle timeout still meets the release with connections to the buffering slot', async (t) => {
  const { port, green, client, buffered } = await flipped(t, { maxRequests: 10, maxWaitSeconds: 30 }, { upstreamIdleMs: 200 })
  const replies = [0, 1, 2].map((i) => send(port, { path: `/held/${i}`, headers: { 'x-test-id': String(i) } }).reply)
  await buffered(3)
  await waitFor(async () => green.connections >= 3, 'three warm connections to green')
  // Each idle timeout closes them; they must be opened again while the requests wait.
  await waitFor(async () => green.connections >= 6, 'the warm connections renewed after their idle timeout')
  await waitFor(async () => green.openConnections >= 3, 'three connections to green open again')
  t.equal(green.received.length, 0, 'warming sends no request')
  await client.release('shop', 'green')
  const answers = await Promise.all(replies)
  t.same(answers.map((a) => a.status), [200, 200, 200])
  // Released: green is an active slot like any other, its idle connections are not replaced.
  await waitFor(async () => green.openConnections === 0, 'the idle connections to green to close for good')
})
