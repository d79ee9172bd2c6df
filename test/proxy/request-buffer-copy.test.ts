/**
 * A held request keeps its head as a copy of its own: the head is parsed in place, as a view
 * of the read it came in, and a view would keep that whole read alive while the request waits.
 */
import net from 'node:net'
import t from 'tap'
import { Registry } from 'prom-client'
import { ProxyMetrics } from '../../src/metrics/proxy-metrics.js'
import { Exchange, type ClientSide, type ExchangeHost } from '../../src/proxy/upstream/exchange.js'
import { parseRequestHead } from '../../src/proxy/http/http-head.js'
import { RequestBuffer } from '../../src/proxy/routing/request-buffer.js'
import { forwardedLines } from '../../src/proxy/http/upstream-head.js'

// The exchange's surroundings, which holding a request does not touch.
const client: ClientSide = {
  socket: new net.Socket(),
  address: '127.0.0.1',
  trusted: false,
  forwarded: forwardedLines('127.0.0.1'),
  exchangeDone: () => undefined,
  becomeTunnel: () => undefined,
  pause: () => undefined,
  resume: () => undefined,
}
const host: ExchangeHost = { name: 'shop', closing: false, alternative: () => undefined, heldBytes: () => true, abandoned: () => undefined, answeredByProxy: () => undefined }

t.test('a held head no longer shares the bytes it was read in', async (t) => {
  const head = 'GET /item HTTP/1.1\r\nhost: shop\r\nconnection: keep-alive\r\n\r\n'
  // A socket read has an ArrayBuffer of its own (Buffer.from would share Node's pool).
  const bytes = `${head}GET /next HTTP/1.1\r\n`
  const read = Buffer.alloc(bytes.length)
  read.write(bytes, 'latin1')
  const exchange = new Exchange(client, parseRequestHead(read, 0, head.length - 4), host)
  const kept = exchange.head.lines.toString('latin1')
  t.equal(exchange.head.lines.buffer, read.buffer, 'parsed in place: a view of the read')

  const buffer = new RequestBuffer('shop', { maxRequests: 10, maxWaitSeconds: 30 }, new ProxyMetrics(new Registry(), () => []).forService('shop'))
  buffer.hold(exchange)
  t.equal(exchange.state, 'held')
  t.not(exchange.head.lines.buffer, read.buffer, 'held: a copy')
  read.fill(0)
  t.equal(exchange.head.lines.toString('latin1'), kept, 'the same lines, whatever becomes of the read')
  t.same(buffer.takeAll(), [exchange])
})
