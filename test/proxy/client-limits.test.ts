/**
 * Every resource a client can hold is bounded: a stalled body holds no upstream connection
 * and times out, a wait for an upstream connection has a deadline, one address has a cap per
 * slot, and held heads count in the buffer's bytes. Real agent, real sockets.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { loadConfig, parseConfig } from '../../src/config/load-config.js'
import { parseServiceRoute } from '../../src/proxy/routing/route-schema.js'
import { DEFAULT_CLIENT_LIMITS } from '../../src/protocol/routes.js'
import { routeFor } from '../../src/upgrade/slots/service-route.js'
import { route, startShop } from './fixtures/agent.js'
import { send, waitFor } from './fixtures/http-client.js'
import { RawClient } from './fixtures/raw-client.js'

const STALLED = 1000

t.test(`${STALLED} clients that send a head and 3 bytes of a 100-byte body: a GET to the same slot is still answered within 100 ms`, async (t) => {
  const { blue, client, port } = await startShop(t, { blue: 'active', green: 'disabled' }, { upstreamMaxConnections: 256 })
  const stalled: RawClient[] = []
  t.teardown(() => stalled.forEach((raw) => raw.close()))
  // In batches, so the listen backlog is never the limit being measured.
  for (let batch = 0; batch < STALLED / 100; batch++) {
    const opened = await Promise.all(Array.from({ length: 100 }, () => RawClient.connect(port)))
    for (const raw of opened) raw.write('POST /upload HTTP/1.1\r\nhost: shop\r\ncontent-length: 100\r\n\r\nabc')
    stalled.push(...opened)
  }
  await waitFor(async () => (await client.getService('shop')).slots.blue.inFlight === STALLED, `all ${STALLED} stalled requests to be routed to blue`, 20_000)
  const before = blue.connections
  const started = performance.now()
  const reply = await send(port, { headers: { 'x-test-id': 'plain' } }).reply
  const ms = performance.now() - started
  t.equal(reply.status, 200, 'the GET is answered by the upstream')
  t.ok(ms < 100, `within 100 ms (${ms.toFixed(1)} ms)`)
  t.same(blue.received.map((r) => r.testId), ['plain'], 'no stalled request reached the upstream')
  t.ok(blue.connections - before <= 1 && blue.connections <= 2, `the stalled requests hold no upstream connection (${blue.connections} opened in all)`)
})

t.test('a body that stops arriving is answered 408 after bodyTimeoutSeconds and its connection closed; the upstream never sees it', async (t) => {
  const { blue, port } = await startShop(t, { blue: 'active', green: 'disabled' }, {}, { limits: { bodyTimeoutSeconds: 0.3 } })
  const raw = await RawClient.connect(port)
  t.teardown(() => raw.close())
  const started = performance.now()
  raw.write('POST /upload HTTP/1.1\r\nhost: shop\r\ncontent-length: 100\r\n\r\nabc')
  const answer = await raw.response(3000)
  const ms = performance.now() - started
  t.equal(answer.status, 408)
  t.match(answer.body, /request body stopped arriving/)
  t.ok(ms >= 290 && ms < 1500, `after the timeout, not before (${ms.toFixed(0)} ms)`)
  t.ok(await raw.closedByPeer(), 'the connection is closed')
  t.equal(blue.received.length, 0, 'nothing reached the upstream')
})

t.test('a body that keeps arriving slowly is not cut: the timeout is for silence, not for the whole body', async (t) => {
  const { blue, port } = await startShop(t, { blue: 'active', green: 'disabled' }, {}, { limits: { bodyTimeoutSeconds: 0.3 } })
  const raw = await RawClient.connect(port)
  t.teardown(() => raw.close())
  raw.write('POST /upload HTTP/1.1\r\nhost: shop\r\ncontent-length: 8\r\nx-test-id: slow\r\n\r\n')
  // Eight bytes 150 ms apart: 1.2 s in all, four times the timeout, never silent for 300 ms.
  for (let i = 0; i < 8; i++) {
    await new Promise((resolve) => setTimeout(resolve, 150))
    raw.write('x')
  }
  t.equal((await raw.response()).status, 200)
  t.same(blue.received.map((r) => r.testId), ['slow'])
})

t.test('a request that waits longer than upstreamWaitSeconds for an upstream connection gets 503 with Retry-After', async (t) => {
  const { blue, port } = await startShop(t, { blue: 'active', green: 'disabled' }, { upstreamMaxConnections: 1 }, { limits: { upstreamWaitSeconds: 0.3 } })
  const slow = send(port, { path: '/slow', headers: { 'x-test-id': 'slow' } })
  await waitFor(() => blue.parkedCount === 1, 'the slow request to hold the only connection')
  const started = performance.now()
  const waited = await send(port, { headers: { 'x-test-id': 'waits' } }).reply
  const ms = performance.now() - started
  t.equal(waited.status, 503)
  t.equal(waited.headers['retry-after'], '1')
  t.match(waited.body, /no free upstream connection within 0\.3s/)
  t.ok(ms >= 290 && ms < 1500, `after the deadline (${ms.toFixed(0)} ms)`)
  blue.openGate()
  t.equal((await slow.reply).status, 200, 'the request holding the connection finishes normally')
  t.equal((await send(port, { headers: { 'x-test-id': 'after' } }).reply).status, 200, 'and the next one gets the freed connection')
  t.same(blue.received.map((r) => r.testId), ['slow', 'after'], 'the expired request never reached the upstream')
})

t.test('one address may use maxRequestsPerClient of a slot\'s connections at once; more get 429 with Retry-After', async (t) => {
  const { blue, port } = await startShop(t, { blue: 'active', green: 'disabled' }, {}, { limits: { maxRequestsPerClient: 2 } })
  const first = send(port, { path: '/slow', headers: { 'x-test-id': '1' } })
  const second = send(port, { path: '/slow', headers: { 'x-test-id': '2' } })
  await waitFor(() => blue.parkedCount === 2, 'two slow requests at the upstream')
  const third = await send(port, { headers: { 'x-test-id': '3' } }).reply
  t.equal(third.status, 429)
  t.equal(third.headers['retry-after'], '1')
  t.match(third.body, /127\.0\.0\.1 already has its share/)
  blue.openGate()
  t.same([(await first.reply).status, (await second.reply).status], [200, 200])
  t.equal((await send(port, { headers: { 'x-test-id': '4' } }).reply).status, 200, 'once they are done, the address may send again')
  t.same(blue.received.map((r) => r.testId).sort(), ['1', '2', '4'])
})

t.test("held heads count in the buffer's maxBytes: large heads fill it without any body", async (t) => {
  const { client, port } = await startShop(t, { blue: 'active', green: 'disabled' }, {}, { buffer: { maxRequests: 1000, maxWaitSeconds: 30, maxBytes: 100_000 } })
  await client.flip('shop', 'green')
  const big = 'v'.repeat(10_000)
  const replies = Array.from({ length: 12 }, (_, i) => send(port, { headers: { 'x-test-id': String(i), 'x-big': big } }))
  await waitFor(async () => (await client.getService('shop')).buffered === 9, 'nine 10 KB heads to be held', 10_000)
  const status = await client.getService('shop')
  t.ok(status.bufferedBytes! > 90_000 && status.bufferedBytes! <= 100_000, `the held heads are counted (${status.bufferedBytes} bytes)`)
  const refused = await Promise.all(replies.map((r) => Promise.race([r.reply, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 300))])))
  const over = refused.filter((r) => r !== undefined)
  t.equal(over.length, 3, 'the heads that did not fit were refused')
  t.ok(over.every((r) => r!.status === 503 && /cannot hold another \d+ bytes/.test(r!.body)), 'with 503 naming the byte limit')
  await client.release('shop', 'green')
  t.equal((await Promise.all(replies.map((r) => r.reply))).filter((r) => r.status === 200).length, 9, 'the held ones are served after the release')
})

t.test('route limits are checked, and a bad one is named by its field', async (t) => {
  const good = route('shop', { blue: 1001, green: 1002 })
  const parsed = parseServiceRoute({ ...good, limits: { bodyTimeoutSeconds: 5, maxRequestsPerClient: 10 } }, 'body', 'shop')
  t.same(parsed.limits, { bodyTimeoutSeconds: 5, maxRequestsPerClient: 10 }, 'fields left out are left to the agent')
  const problem = (limits: unknown): string => {
    try {
      parseServiceRoute({ ...good, limits }, 'body', 'shop')
    } catch (error) {
      return (error as Error).message
    }
    return 'accepted'
  }
  t.match(problem({ bodyTimeoutSeconds: 0 }), /^body\.limits\.bodyTimeoutSeconds: must be a number 0\.01-3600/)
  t.match(problem({ headTimeoutSeconds: 'soon' }), /^body\.limits\.headTimeoutSeconds:/)
  t.match(problem({ upstreamWaitSeconds: -1 }), /^body\.limits\.upstreamWaitSeconds:/)
  t.match(problem({ maxRequestsPerClient: 1.5 }), /^body\.limits\.maxRequestsPerClient: must be an integer 1-100000/)
  t.match(problem({ maxRequestPerClient: 5 }), /^body\.limits\.maxRequestPerClient: unknown field/)
})

t.test('proxy.limits in handover.yaml: defaults when left out, each field read, a bad one named with its line', async (t) => {
  const demo = readFileSync(new URL('../../deploy/demo/handover.yaml', import.meta.url), 'utf8')
  const example = loadConfig(new URL('../../deploy/handover.example.yaml', import.meta.url).pathname)
  t.same(example.proxy.limits, DEFAULT_CLIENT_LIMITS, 'the example lists the defaults')
  t.same(parseConfig(demo, '/etc/handover/x.yaml').proxy.limits, DEFAULT_CLIENT_LIMITS, 'left out: the defaults')
  const withLimits = (yaml: string) => demo.replace(/^proxy:\n/m, `proxy:\n  limits:\n${yaml}`)
  t.same(parseConfig(withLimits('    bodyTimeoutSeconds: 5\n    maxRequestsPerClient: 16\n'), '/etc/handover/x.yaml').proxy.limits, { ...DEFAULT_CLIENT_LIMITS, bodyTimeoutSeconds: 5, maxRequestsPerClient: 16 })
  t.throws(() => parseConfig(withLimits('    upstreamWaitSeconds: 0\n'), '/etc/handover/x.yaml'), { message: /^\/etc\/handover\/x\.yaml:\d+: proxy\.limits\.upstreamWaitSeconds: must be an integer/ })
  t.throws(() => parseConfig(withLimits('    bodyTimeout: 5\n'), '/etc/handover/x.yaml'), { message: /proxy\.limits\.bodyTimeout/ })
  const config = parseConfig(withLimits('    headTimeoutSeconds: 7\n'), '/etc/handover/x.yaml')
  t.equal(routeFor(config).limits?.headTimeoutSeconds, 7, 'the route the agent gets carries them')
})

t.test('requests released from the buffer are not refused by the per-client cap: the buffer already bounded them', async (t) => {
  const { green, client, port } = await startShop(t, { blue: 'active', green: 'disabled' }, {}, { limits: { maxRequestsPerClient: 2 } })
  await client.flip('shop', 'green')
  const held = Array.from({ length: 8 }, (_, i) => send(port, { headers: { 'x-test-id': String(i) } }))
  await waitFor(async () => (await client.getService('shop')).buffered === 8, 'eight requests from one address to be held')
  await client.release('shop', 'green')
  const statuses = await Promise.all(held.map(async (r) => (await r.reply).status))
  t.same(statuses, Array(8).fill(200), 'all eight are served')
  t.equal(green.received.length, 8)
})
