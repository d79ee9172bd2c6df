import t from 'tap'
import type { IncomingHttpHeaders } from 'node:http'
import { ensureRequestId, stripHopByHop } from '../../src/proxy/hop-headers.js'

t.test('hop-by-hop request headers are removed, end-to-end ones kept', async (t) => {
  const headers: IncomingHttpHeaders = {
    host: 'shop',
    connection: 'close',
    'keep-alive': 'timeout=5',
    'proxy-connection': 'keep-alive',
    te: 'trailers',
    trailer: 'x-checksum',
    upgrade: 'websocket',
    'content-type': 'application/json',
  }
  stripHopByHop(headers)
  t.same(headers, { host: 'shop', connection: 'close', 'content-type': 'application/json' }, 'Connection stays for the client side')
})

t.test('headers named in Connection are hop-by-hop too', async (t) => {
  const headers: IncomingHttpHeaders = { connection: 'close, X-Secret-Hop', 'x-secret-hop': '1', accept: '*/*' }
  stripHopByHop(headers)
  t.same(headers, { connection: 'close, X-Secret-Hop', accept: '*/*' })
})

t.test('a request id is kept or added', async (t) => {
  const given: IncomingHttpHeaders = { 'x-request-id': 'abc' }
  ensureRequestId(given)
  t.equal(given['x-request-id'], 'abc')
  const none: IncomingHttpHeaders = {}
  ensureRequestId(none)
  t.match(none['x-request-id'], /^[0-9a-f-]{36}$/)
})
