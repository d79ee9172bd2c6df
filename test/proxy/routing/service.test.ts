import http from 'node:http'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { route, startShop, startTestAgent } from '../fixtures/agent.js'
import { send, sha256, waitFor, type Reply } from '../fixtures/http-client.js'
import { get, RawClient } from '../fixtures/raw-client.js'
import { BIG, REFUSED_PORT, type Echo } from '../fixtures/upstream.js'

/** Forwarding headers a client sends to pose as someone else. */
const SPOOFED = { 'x-forwarded-for': '10.0.0.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }

/** X-Forwarded-For, -Proto and -Host, as the upstream saw them. */
function forwardingOf(headers: Echo['headers']): unknown[] {
  return [headers['x-forwarded-for'], headers['x-forwarded-proto'], headers['x-forwarded-host']]
}

t.test('active slots share requests round robin', async (t) => {
  const { port } = await startShop(t)
  const servedBy: string[] = []
  for (let i = 0; i < 6; i++) servedBy.push((await send(port).reply).headers['x-served-by'] as string)
  t.same(servedBy, ['blue', 'green', 'blue', 'green', 'blue', 'green'])
})

t.test('a draining slot gets no new requests; its in-flight request still completes', async (t) => {
  const { blue, client, port } = await startShop(t)
  const slow = send(port, { path: '/slow' })
  await once(blue, 'parked')
  await client.setSlotState('shop', 'blue', 'draining')
  t.equal((await client.getService('shop')).slots.blue.inFlight, 1, 'the slow request is in flight on blue')

  for (let i = 0; i < 4; i++) t.equal((await send(port).reply).headers['x-served-by'], 'green')
  t.equal(blue.received.length, 1, 'blue got nothing new while draining')

  blue.openGate()
  const reply = await slow.reply
  t.equal(reply.status, 200)
  t.equal(reply.headers['x-served-by'], 'blue', 'the in-flight request finished on the draining slot')
  await waitFor(async () => (await client.getService('shop')).slots.blue.inFlight === 0, 'blue in-flight to reach 0')
})

t.test('no active slot: 503 that says why', async (t) => {
  const { port } = await startShop(t, { blue: 'disabled', green: 'disabled' })
  const reply = await send(port).reply
  t.equal(reply.status, 503)
  t.match(reply.body, /shop has no active slot \(blue disabled, green disabled\)/)
})

t.test('an upstream that is down: 502 that names the slot', async (t) => {
  const { client } = await startTestAgent(t)
  const { listen } = await client.putService(route('shop', { blue: REFUSED_PORT, green: REFUSED_PORT }, { blue: 'active', green: 'disabled' }))
  const reply = await send(listen.port).reply
  t.equal(reply.status, 502)
  t.match(reply.body, /bad gateway: shop slot blue \(127\.0\.0\.1:\d+\) failed: ECONNREFUSED/)
  t.equal((await client.getService('shop')).slots.blue.inFlight, 0, 'a failed request does not leak in-flight')
})

t.test('flip, then release: held requests reach the new slot in arrival order, bodies intact', async (t) => {
  const { agent, blue, green, client, port } = await startShop(t, { blue: 'active', green: 'disabled' })
  await client.flip('shop', 'green')
  const flipped = await client.getService('shop')
  t.same([flipped.slots.blue.state, flipped.slots.green.state], ['draining', 'buffering'])

  const bodies: Array<Buffer | undefined> = []
  const replies: Array<Promise<Reply>> = []
  let answered = 0
  for (let i = 0; i < 20; i++) {
    const big = i === 7
    const body = i % 2 === 0 && !big ? undefined : randomBytes(big ? 200 * 1024 : 1000 + i * 37)
    bodies.push(body)
    const sent = send(port, {
      method: body === undefined ? 'GET' : 'POST',
      path: `/item/${i}`,
      headers: { 'x-test-id': String(i) },
      ...(body === undefined ? {} : { body, chunked: big }),
    })
    replies.push(sent.reply.finally(() => answered++))
    // One at a time into the buffer, so the arrival order is the loop order.
    await waitFor(async () => (await client.getService('shop')).buffered === i + 1, `request ${i} to be held`)
  }
  t.equal(answered, 0, 'nothing is answered while the buffer holds it')
  // Each waits at least this long: far more than green takes to answer all 20.
  await new Promise((resolve) => setTimeout(resolve, 250))

  const { released } = await client.release('shop', 'green')
  t.equal(released, 20)
  const answers = await Promise.all(replies)
  t.same(answers.map((a) => a.status), Array(20).fill(200), 'all answered 200')
  const echoes = answers.map((a) => JSON.parse(a.body) as Echo)
  t.same(echoes.map((e) => e.upstream), Array(20).fill('green'), 'all answered by the released-to slot')
  t.same(echoes.map((e) => e.testId), bodies.map((_, i) => String(i)), 'each answer belongs to its request')
  t.same(echoes.map((e) => e.sha256), bodies.map((b) => sha256(b ?? Buffer.alloc(0))), 'bodies arrived byte-identical')
  t.equal(echoes[7]!.length, 200 * 1024, 'the chunked 200 KiB body arrived whole')
  t.same(green.received.map((r) => r.testId), bodies.map((_, i) => String(i)), 'green received them in arrival order')
  t.equal(blue.received.length, 0, 'none reached the draining slot')
  const after = await client.getService('shop')
  t.same([after.slots.blue.state, after.slots.green.state, after.buffered], ['disabled', 'active', 0])
  const metrics = await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`).then((r) => r.text())
  t.match(metrics, /^handover_proxy_buffer_wait_seconds_count\{service="shop"\} 20$/m, 'each held request\'s wait is counted')
  const sum = (pattern: RegExp): number => Number(pattern.exec(metrics)?.[1])
  const waited = sum(/^handover_proxy_buffer_wait_seconds_sum\{service="shop"\} (\S+)$/m)
  const onGreen = sum(/^handover_proxy_request_duration_seconds_sum\{service="shop",slot="green"\} (\S+)$/m)
  t.ok(waited >= 20 * 0.25, `the buffer counts each request's wait (${waited} s in all)`)
  t.ok(onGreen < waited / 2, `green's request duration starts at the release, not at the arrival (${onGreen} s against ${waited} s held)`)
})

t.test('release to the draining slot undoes the flip', async (t) => {
  const { green, client, port } = await startShop(t, { blue: 'active', green: 'disabled' })
  await client.flip('shop', 'green')
  const held = send(port, { headers: { 'x-test-id': 'held' } })
  await waitFor(async () => (await client.getService('shop')).buffered === 1, 'the request to be held')
  t.same(await client.release('shop', 'blue').then((r) => r.released), 1)
  t.equal((await held.reply).headers['x-served-by'], 'blue')
  const after = await client.getService('shop')
  t.same([after.slots.blue.state, after.slots.green.state], ['active', 'disabled'])
  t.equal(green.received.length, 0)
})

t.test('upstream requests carry forwarding headers and a request id, not hop-by-hop ones', async (t) => {
  const { port } = await startShop(t, { blue: 'active', green: 'disabled' })
  const headers = { 'x-request-id': 'req-1', te: 'trailers', 'keep-alive': 'timeout=1', host: 'shop.example', connection: 'keep-alive, x-hop', 'x-hop': 'secret', ...SPOOFED }
  const reply = await send(port, { headers }).reply
  const seen = (JSON.parse(reply.body) as Echo).headers
  t.equal(seen['x-request-id'], 'req-1')
  t.same(forwardingOf(seen), ['127.0.0.1', 'http', 'shop.example'], "a client that is not a trusted forwarder cannot pose as another address, as HTTPS, or as another host")
  t.equal(seen.te, undefined)
  t.equal(seen['keep-alive'], undefined)
  t.equal(seen.connection, undefined, "the client's Connection header is its own, not the upstream's")
  t.equal(seen['x-hop'], undefined, 'a header named in Connection is hop-by-hop too')
  t.match((JSON.parse((await send(port).reply).body) as Echo).headers['x-request-id'], /^[0-9a-f-]{36}$/, 'an id is added when missing')
})

t.test("a trusted forwarder's X-Forwarded-* headers are kept, from the connections made after the route lists it", async (t) => {
  const states = { blue: 'active', green: 'disabled' } as const
  const { port, client, blue, green } = await startShop(t, states, {}, { trustedForwarders: ['10.0.0.0/8', '127.0.0.0/8'] })
  const forwarding = async (headers: Record<string, string>): Promise<unknown> => forwardingOf((JSON.parse((await send(port, { headers: { host: 'app.internal', ...headers } }).reply).body) as Echo).headers)
  t.same(await forwarding(SPOOFED), ['10.0.0.9, 127.0.0.1', 'https', 'evil.example'], 'the client address appended, proto and host passed on')
  t.same(await forwarding({}), ['127.0.0.1', 'http', 'app.internal'], 'a trusted forwarder that sends none gets the defaults')
  const untrusting = route('shop', { blue: blue.port, green: green.port }, states, undefined, { trustedForwarders: ['10.0.0.0/8'] })
  const kept = await RawClient.connect(port)
  t.teardown(() => kept.socket.destroy())
  await client.putService(untrusting)
  t.same(await forwarding(SPOOFED), ['127.0.0.1', 'http', 'app.internal'], 'a new connection, once the route no longer lists 127.0.0.1')
  kept.write(get('/', { 'x-forwarded-proto': 'https' }))
  t.same(forwardingOf((JSON.parse((await kept.response()).body) as Echo).headers)[1], 'https', 'a connection made before the change keeps the trust it was given')
})

t.test("a client that sends no forwarding headers gets its connection's own, on every request of it", async (t) => {
  const { port } = await startShop(t, { blue: 'active', green: 'disabled' })
  const forwarding = async (client: RawClient): Promise<unknown> => {
    client.write(get('/'))
    return forwardingOf((JSON.parse((await client.response()).body) as Echo).headers)
  }
  const first = await RawClient.connect(port)
  const second = await RawClient.connect(port)
  t.teardown(() => [first, second].forEach((client) => client.socket.destroy()))
  const expected = ['127.0.0.1', 'http', 'test']
  t.same(await forwarding(first), expected)
  t.same(await forwarding(first), expected, 'the second request on the connection, with the lines it kept')
  t.same(await forwarding(second), expected, 'another connection')
  t.same(await forwarding(first), expected, 'the first connection again, after another one used its own')
})

t.test('a large chunked response reaches a client that stops reading, byte-identical', async (t) => {
  const { blue, port } = await startShop(t, { blue: 'active', green: 'disabled' })
  for (let i = 0; i < 2; i++) {
    const backedUp = once(blue, 'backpressure')
    const received = await new Promise<Buffer>((resolve, reject) => {
      const request = http.get({ host: '127.0.0.1', port: port, path: '/big', agent: false }, (response) => {
        // Not reading until the upstream feels backpressure: the proxy's writes to us are
        // then pending, so its read buffers must not be reused under them.
        response.pause()
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => resolve(Buffer.concat(chunks)))
        response.on('error', reject)
        void backedUp.then(() => response.resume())
      })
      request.on('error', reject)
    })
    t.equal(received.length, BIG.length)
    t.equal(sha256(received), sha256(BIG), `response ${i + 1} is byte-identical`)
  }
})
