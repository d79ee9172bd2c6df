/**
 * Response heads are rewritten in the bytes they were read into (see head-fields.ts): these
 * tests send an upstream's exact bytes through the real agent and compare, byte for byte,
 * what the client gets, including heads that arrive with an interim response before them,
 * heads split across reads, and `connection: close` added with and without room for it.
 */
import t from 'tap'
import net, { type AddressInfo } from 'node:net'
import { once } from 'node:events'
import { route, startTestAgent, type Teardown } from './fixtures/agent.js'
import { get, RawClient } from './fixtures/raw-client.js'

/** How the upstream writes its answer: at once, or one byte per write (each its own read). */
type Pace = 'at once' | 'byte by byte'

interface Scripted {
  port: number
  /** Upstream connections accepted so far. */
  connections: number
}

/** An upstream that answers every request head it reads with `answer`, written at `pace`. */
async function scriptedUpstream(t: Teardown, answer: string, pace: Pace): Promise<Scripted> {
  const scripted: Scripted = { port: 0, connections: 0 }
  const server = net.createServer((socket) => {
    scripted.connections++
    // Byte by byte means one segment per byte, not bytes coalesced while an ACK is awaited.
    socket.setNoDelay(true)
    let pending = ''
    socket.on('error', () => undefined)
    socket.on('data', async (chunk: Buffer) => {
      pending += chunk.toString('latin1')
      while (pending.includes('\r\n\r\n')) {
        pending = pending.slice(pending.indexOf('\r\n\r\n') + 4)
        if (pace === 'at once') socket.write(answer, 'latin1')
        else for (const byte of Buffer.from(answer, 'latin1')) await new Promise<void>((resolve) => socket.write(Buffer.of(byte), () => setImmediate(resolve)))
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  scripted.port = (server.address() as AddressInfo).port
  return scripted
}

/** The agent in front of the scripted upstream; a client connected to it. */
async function through(t: Teardown, answer: string, pace: Pace): Promise<{ client: RawClient; upstream: Scripted }> {
  const upstream = await scriptedUpstream(t, answer, pace)
  const test = await startTestAgent(t)
  const { listen } = await test.client.putService(route('shop', { blue: upstream.port, green: upstream.port }, { blue: 'active', green: 'disabled' }))
  const client = await RawClient.connect(listen.port)
  t.teardown(() => client.close())
  return { client, upstream }
}

const INTERIM_AND_FINAL =
  'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nKeep-Alive: timeout=5\r\n\r\n' +
  'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nContent-Type: text/plain\r\nX-Hop: 1\r\nContent-Length: 5\r\nKeep-Alive: timeout=5\r\nDate: today\r\n\r\nhello'
const RELAYED =
  'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n' + //
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nDate: today\r\n\r\nhello'

for (const pace of ['at once', 'byte by byte'] as const) {
  t.test(`an interim and a final response written ${pace}: each head without its hop-by-hop lines, the body as sent`, async (t) => {
    const { client, upstream } = await through(t, INTERIM_AND_FINAL, pace)
    for (let i = 0; i < 3; i++) {
      client.write(get('/hints'))
      t.equal(await client.bytes(RELAYED.length), RELAYED, `response ${i + 1}`)
    }
    t.equal(upstream.connections, 1, 'the upstream connection was reused: its framing was read right')
    client.write(get('/after'))
    t.equal(await client.bytes(RELAYED.length), RELAYED, 'and the client connection still works')
    t.equal(client.rest(), '', 'nothing more than the responses')
  })
}

t.test('connection: close is added to the head when the client asked to close, with or without room for it', async (t) => {
  const answers: Array<[string, string, string]> = [
    // Dropped lines leave room: written where they were.
    ['room', 'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection: close\r\n\r\nok'],
    // Nothing dropped: the head and body are copied with the line added.
    ['no room', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection: close\r\n\r\nok'],
    // Too little room: a dropped TE line is shorter than the added one.
    ['too little room', 'HTTP/1.1 200 OK\r\nTE: x\r\nContent-Length: 2\r\n\r\nok', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection: close\r\n\r\nok'],
    // An HTTP/1.0 upstream is relayed as HTTP/1.1.
    ['HTTP/1.0', 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection: close\r\n\r\nok'],
  ]
  for (const [name, answer, relayed] of answers) {
    for (const pace of ['at once', 'byte by byte'] as const) {
      const { client } = await through(t, answer, pace)
      client.write(get('/last', { connection: 'close' }))
      t.equal(await client.bytes(relayed.length), relayed, `${name}, written ${pace}`)
      t.equal(await client.closedByPeer(), true, `${name}, written ${pace}: the proxy closed the connection after it`)
      t.equal(client.rest(), '')
    }
  }
})
