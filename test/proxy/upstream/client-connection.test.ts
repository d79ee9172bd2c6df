import t from 'tap'
import { startShop } from '../fixtures/agent.js'
import { get, RawClient } from '../fixtures/raw-client.js'
import type { Echo } from '../fixtures/upstream.js'

t.test('an idle keep-alive client connection is closed after the keep-alive timeout', async (t) => {
  const { port } = await startShop(t, undefined, { clientKeepAliveSeconds: 0.2 })
  const raw = await RawClient.connect(port)
  t.teardown(() => raw.close())
  raw.write(get('/'))
  t.equal((await raw.response()).status, 200)
  t.ok(await raw.closedByPeer(5000), 'closed once idle past the timeout')
})

t.test('a client that never finishes its request head gets 408 and is closed', async (t) => {
  const { blue, green, port } = await startShop(t, undefined, { clientHeadTimeoutSeconds: 0.2 })
  const raw = await RawClient.connect(port)
  t.teardown(() => raw.close())
  raw.write('GET / HTTP/1.1\r\nhost: slow\r\n')
  const answer = await raw.response(5000)
  t.equal(answer.status, 408)
  t.match(answer.body, /request head not received in time/)
  t.ok(await raw.closedByPeer())
  t.equal(blue.received.length + green.received.length, 0)
})

t.test('an HTTP/1.0 client is served and its connection closed after the response', async (t) => {
  const { port } = await startShop(t, { blue: 'active', green: 'disabled' })
  const raw = await RawClient.connect(port)
  t.teardown(() => raw.close())
  raw.write('GET /old HTTP/1.0\r\nx-test-id: ten\r\n\r\n')
  await raw.closedByPeer()
  const text = raw.rest()
  t.match(text, /^HTTP\/1\.1 200 OK\r\n/)
  t.match(text, /"testId":"ten"/)
  t.equal((JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Echo).url, '/old')
})
