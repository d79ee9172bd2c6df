import t from 'tap'
import { startShop } from './fixtures/agent.js'
import { waitFor } from './fixtures/http-client.js'
import { get, RawClient } from './fixtures/raw-client.js'
import type { Echo } from './fixtures/upstream.js'

t.test('pipelined requests of one connection are answered in order, one at a time', async (t) => {
  const { blue, green, port } = await startShop(t)
  const raw = await RawClient.connect(port)
  t.teardown(() => raw.close())
  // The first is slow: the second must not overtake it, though another slot is free.
  raw.write(get('/slow', { 'x-test-id': '1' }) + get('/fast', { 'x-test-id': '2' }) + get('/fast', { 'x-test-id': '3' }))
  await waitFor(() => blue.parkedCount === 1, 'the slow request to reach blue')
  t.equal(green.received.length, 0, 'the next request waits for the first response')
  blue.openGate()
  const ids = []
  for (let i = 0; i < 3; i++) ids.push((JSON.parse((await raw.response()).body) as Echo).testId)
  t.same(ids, ['1', '2', '3'])
})

t.test('pipelined requests held in the buffer are released in order', async (t) => {
  const { green, client, port } = await startShop(t, { blue: 'active', green: 'disabled' })
  await client.flip('shop', 'green')
  const raw = await RawClient.connect(port)
  t.teardown(() => raw.close())
  const post = (id: string, body: string) => `POST /p HTTP/1.1\r\nhost: test\r\nx-test-id: ${id}\r\ncontent-length: ${body.length}\r\n\r\n${body}`
  raw.write(post('a', 'first') + get('/g', { 'x-test-id': 'b' }) + post('c', 'third'))
  await waitFor(async () => (await client.getService('shop')).buffered === 1, 'the first request to be held')
  t.equal((await client.getService('shop')).buffered, 1, 'one request of a connection is held at a time; the rest wait behind it')
  await client.release('shop', 'green')
  const answers = []
  for (let i = 0; i < 3; i++) answers.push(JSON.parse((await raw.response()).body) as Echo)
  t.same(answers.map((a) => a.testId), ['a', 'b', 'c'])
  t.same(answers.map((a) => a.length), [5, 0, 5])
  t.same(green.received.map((r) => r.testId), ['a', 'b', 'c'])
})

t.test('a malformed request is answered 400 and its connection closed', async (t) => {
  const { blue, green, port } = await startShop(t)
  const cases = [
    ['POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n', 400, /both Content-Length and Transfer-Encoding/],
    ['POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n', 400, /conflicting Content-Length/],
    ['GET / HTTP/1.1\r\n\r\n', 400, /without Host/],
    ['GET / HTTP/2.0\r\nhost: x\r\n\r\n', 505, /HTTP\/1\.0 and HTTP\/1\.1/],
    ['GET / HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n', 400, /malformed header/],
  ] as const
  for (const [request, status, body] of cases) {
    const raw = await RawClient.connect(port)
    raw.write(request)
    const answer = await raw.response()
    t.equal(answer.status, status, request.split('\r\n')[0])
    t.match(answer.body, body)
    t.ok(await raw.closedByPeer(), 'the connection is closed')
  }
  t.equal(blue.received.length + green.received.length, 0, 'nothing reached a slot')
})

const CHUNKED_START = 'POST /p HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n'
const BAD_CHUNK = 'zz\r\n'

t.test('a chunked body that turns malformed while forwarded: 400, the connection closed, and its slot has nothing left in flight', async (t) => {
  const { client, port } = await startShop(t, { blue: 'active', green: 'disabled' })
  const raw = await RawClient.connect(port)
  t.teardown(() => raw.close())
  raw.write(CHUNKED_START)
  await waitFor(async () => (await client.getService('shop')).slots.blue.inFlight === 1, 'the request to be in flight on blue')
  raw.write(BAD_CHUNK)
  const answer = await raw.response()
  t.equal(answer.status, 400)
  t.match(answer.body, /bad request/)
  t.ok(await raw.closedByPeer(), 'the connection is closed')
  await waitFor(async () => (await client.getService('shop')).slots.blue.inFlight === 0, 'blue to have nothing in flight')
  t.same(await client.waitDrained('shop', 'blue', 1), { drained: true, inFlight: 0 }, 'a drain of blue completes')
})

t.test('a held chunked body that turns malformed: 400, and it leaves the buffer, never to be forwarded', async (t) => {
  const { green, client, port } = await startShop(t, { blue: 'active', green: 'disabled' })
  await client.flip('shop', 'green')
  const raw = await RawClient.connect(port)
  t.teardown(() => raw.close())
  raw.write(CHUNKED_START)
  await waitFor(async () => (await client.getService('shop')).buffered === 1, 'the request to be held')
  raw.write(BAD_CHUNK)
  t.equal((await raw.response()).status, 400)
  await waitFor(async () => (await client.getService('shop')).buffered === 0, 'the buffer to forget it')
  t.equal((await client.release('shop', 'green')).released, 0, 'nothing left to release')
  t.equal(green.received.length, 0, 'it never reached green')
  t.equal((await client.getService('shop')).slots.green.inFlight, 0)
})
