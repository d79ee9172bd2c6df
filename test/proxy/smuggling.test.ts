/**
 * The smuggling attack measured against the old proxy: a bare LF after the last chunk, which
 * a lenient server (nginx) reads as the end of the message, and then reads what follows as
 * a second request, whose response goes to whichever client's request comes next on the
 * shared upstream connection. Here many clients share the pool behind an upstream that is
 * that lenient, attackers keep trying, and no client ever gets another's response.
 */
import t from 'tap'
import net from 'node:net'
import { once } from 'node:events'
import { RawClient } from './fixtures/raw-client.js'
import type { Answered } from './fixtures/recording-upstream.js'
import { rawExchange, recordedShop } from './fixtures/strict-setup.js'

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nhost: shop\r\n\r\n'
const ATTACKS = [
  `POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\n${SMUGGLED}`,
  `POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\n0\r\nx: y\n\n${SMUGGLED}`,
  `POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\n3\nabc\n0\n\n${SMUGGLED}`,
  `POST /a HTTP/1.1\r\nhost: shop\r\nconnection: content-length\r\ncontent-length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
]
const CLIENTS = 30
const REQUESTS_PER_CLIENT = 20
const DEADLINE_MS = 30_000

t.test('the test upstream is as lenient as nginx: sent to it directly, an attack is read as two requests', async (t) => {
  const { upstream } = await recordedShop(t, 'bare-lf')
  const socket = net.connect(upstream.port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  await once(socket, 'connect')
  socket.write(ATTACKS[0]!)
  const deadline = Date.now() + 5000
  while (upstream.requests.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  t.same(
    upstream.requests.map((r) => r.target),
    ['/a', '/smuggled'],
    'without a strict proxy in front, the bytes after the bare LF are a request of their own',
  )
})

t.test('with many clients sharing the upstream pool and attackers trying throughout, every client gets its own responses', async (t) => {
  const { upstream, port } = await recordedShop(t, 'bare-lf')
  const started = Date.now()
  const wrong: string[] = []
  let answered = 0
  const innocent = async (client: number): Promise<void> => {
    const raw = await RawClient.connect(port)
    try {
      for (let i = 0; i < REQUESTS_PER_CLIENT && Date.now() - started < DEADLINE_MS; i++) {
        const id = `c${client}-${i}`
        raw.write(`GET /item/${id} HTTP/1.1\r\nhost: shop\r\nx-test-id: ${id}\r\n\r\n`)
        const response = await raw.response()
        const echo = JSON.parse(response.body) as Answered
        if (response.status !== 200 || echo.testId !== id) wrong.push(`${id} got ${response.status} ${response.body}`)
        answered++
      }
    } finally {
      raw.close()
    }
  }
  const attacks: number[] = []
  const attacker = async (): Promise<void> => {
    for (let i = 0; i < REQUESTS_PER_CLIENT && Date.now() - started < DEADLINE_MS; i++) {
      const { response, closed } = await rawExchange(port, ATTACKS[i % ATTACKS.length]!, 200)
      attacks.push(response.status)
      if (!closed) wrong.push(`attack ${i}: connection left open`)
    }
  }
  await Promise.all([...Array.from({ length: CLIENTS }, (_, i) => innocent(i)), attacker(), attacker()])
  t.equal(answered, CLIENTS * REQUESTS_PER_CLIENT, 'every innocent request was answered within the deadline')
  t.same(wrong, [], 'no client got a response meant for another, and every attack connection was closed')
  t.ok(attacks.length > 0 && attacks.every((status) => status === 400), `every attack was answered 400 (${attacks.length} attacks)`)
  t.notOk(
    upstream.requests.some((r) => r.target === '/smuggled' || r.target === '/a'),
    'the upstream never read the smuggled request, nor the attacking one',
  )
  t.equal(upstream.requests.length, CLIENTS * REQUESTS_PER_CLIENT, 'the upstream read exactly the innocent requests')
  t.ok(upstream.connections.length < CLIENTS, `the clients shared upstream connections (${upstream.connections.length} for ${CLIENTS} clients)`)
})
