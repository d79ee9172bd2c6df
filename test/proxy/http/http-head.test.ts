import t from 'tap'
import { HeadError } from '../../../src/proxy/errors.js'
import { parseRequestHead as parseRequestBytes, parseResponseHead as parseResponseBytes, withConnectionClose, type ResponseHead } from '../../../src/proxy/http/http-head.js'
import { forwardedLines, upstreamHead as upstreamBytes } from '../../../src/proxy/http/upstream-head.js'

interface ParsedRequest extends ReturnType<typeof parseRequestBytes> {
  /** The kept lines, as text. */
  text: string
}

/**
 * `text` is a head without its final CRLF CRLF, read after `before` (other bytes on the same
 * connection), from a client that is a trusted forwarder or not.
 */
function parseRequestHead(text: string, before = '', trusted = false): ParsedRequest {
  const data = Buffer.from(`${before}${text}\r\n\r\nbody`, 'latin1')
  const head = parseRequestBytes(data, before.length, before.length + text.length, trusted)
  if (data.toString('latin1', 0, before.length) !== before) throw new Error('the rewrite touched the bytes before the head')
  if (data.toString('latin1', before.length + text.length) !== '\r\n\r\nbody') throw new Error('the rewrite touched the bytes after the head')
  return Object.assign(head, { text: head.lines.toString('latin1') })
}

/** What the upstream gets for `head` from a client at `clientAddress`. */
function upstreamHead(head: ParsedRequest, clientAddress: string): string {
  return upstreamBytes(head, { address: clientAddress, forwarded: forwardedLines(clientAddress) }).toString('latin1')
}

interface Rewritten extends ResponseHead {
  /** What the client gets: the rewritten head and the bytes read after it. */
  sent: string
}

function parseResponseHead(text: string, method: string, before = ''): Rewritten {
  const data = Buffer.from(`${before}${text}\r\n\r\nbody`, 'latin1')
  const head = parseResponseBytes(data, before.length, before.length + text.length, method)
  if (data.toString('latin1', 0, before.length) !== before) throw new Error('the rewrite touched the bytes before the head')
  return { ...head, sent: data.toString('latin1', head.from) }
}

function refused(parse: () => unknown): HeadError {
  try {
    parse()
  } catch (error) {
    if (error instanceof HeadError) return error
    throw error
  }
  throw new Error('accepted')
}

t.test('a request head: hop-by-hop headers dropped, framing and forwarding facts picked out', async (t) => {
  const head = parseRequestHead(
    'POST /a?b=1 HTTP/1.1\r\nHost: shop\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\nContent-Length: 12\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Host: evil\r\nAccept: */*',
  )
  t.equal(head.method, 'POST')
  t.equal(head.bodyKind, 'length')
  t.equal(head.contentLength, 12)
  t.equal(head.keepAlive, true)
  t.equal(head.text, 'POST /a?b=1 HTTP/1.1\r\nHost: shop\r\nContent-Length: 12\r\nAccept: */*\r\n')
  const sent = upstreamHead(head, '127.0.0.1')
  t.match(sent, /\r\nx-forwarded-for: 127\.0\.0\.1\r\nx-forwarded-proto: http\r\nx-forwarded-host: shop\r\nx-request-id: [0-9a-f-]{36}\r\n\r\n$/)
  const idOf = (text: string) => /x-request-id: (\S+)/.exec(text)?.[1]
  const again = upstreamHead(parseRequestHead('GET / HTTP/1.1\r\nhost: x'), '127.0.0.1')
  t.match(idOf(again), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'an added id has the UUID v4 shape')
  t.not(idOf(again), idOf(sent), 'each request gets its own id')
  t.equal(idOf(upstreamHead(head, '127.0.0.1')), idOf(sent), 'a request sent again (a retry) keeps its id')
  t.notMatch(sent, /evil|10\.0\.0\.1/, "an untrusted client's X-Forwarded-For and -Host are replaced by what the proxy saw")
  const upgrade = parseRequestHead('GET /ws HTTP/1.1\r\nHost: shop\r\nX-Forwarded-Proto: https\r\nX-Request-Id: r7\r\nConnection: upgrade\r\nUpgrade: websocket')
  t.equal(
    upstreamHead(upgrade, '10.1.2.3'),
    'GET /ws HTTP/1.1\r\nHost: shop\r\nX-Request-Id: r7\r\nx-forwarded-for: 10.1.2.3\r\nx-forwarded-proto: http\r\nx-forwarded-host: shop\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n',
    "an untrusted client's proto replaced, its request id kept, the upgrade asked for again",
  )
  t.equal(parseRequestHead('GET / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: Chunked').bodyKind, 'chunked', 'a coding name is case-insensitive')
  t.match(refused(() => parseRequestHead('GET / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked')).problem, /unsupported Transfer-Encoding/, 'only chunked alone: a request coding the proxy cannot frame alike is refused')
  t.equal(parseRequestHead('GET / HTTP/1.0').keepAlive, false, 'HTTP/1.0 closes')
  t.equal(parseRequestHead('GET / HTTP/1.0\r\nconnection: keep-alive').keepAlive, false, 'HTTP/1.0 keep-alive is not offered')
  t.equal(parseRequestHead('GET / HTTP/1.1\r\nhost: x\r\nconnection: close').keepAlive, false)
  t.equal(parseRequestHead('GET / HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket').upgrade, 'websocket')
  t.equal(parseRequestHead('GET / HTTP/1.1\r\nhost: x\r\nupgrade: websocket').upgrade, undefined, 'Upgrade without Connection: upgrade is ignored')
})

t.test("a trusted forwarder's X-Forwarded-* headers are kept: its client appended to the For list, its Proto and Host passed on", async (t) => {
  const text = 'GET / HTTP/1.1\r\nHost: app.internal\r\nX-Forwarded-For: 198.51.100.7\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\nX-Request-Id: r1'
  t.equal(
    upstreamHead(parseRequestHead(text, '', true), '10.0.0.2'),
    'GET / HTTP/1.1\r\nHost: app.internal\r\nX-Request-Id: r1\r\nx-forwarded-for: 198.51.100.7, 203.0.113.9, 10.0.0.2\r\nx-forwarded-proto: https\r\nx-forwarded-host: shop.example\r\n\r\n',
  )
  t.equal(
    upstreamHead(parseRequestHead(text), '10.0.0.2'),
    'GET / HTTP/1.1\r\nHost: app.internal\r\nX-Request-Id: r1\r\nx-forwarded-for: 10.0.0.2\r\nx-forwarded-proto: http\r\nx-forwarded-host: app.internal\r\n\r\n',
    'the same head from a client that is not trusted',
  )
  const bare = upstreamHead(parseRequestHead('GET / HTTP/1.1\r\nHost: app.internal\r\nX-Request-Id: r2', '', true), '10.0.0.2')
  t.match(bare, /x-forwarded-for: 10\.0\.0\.2\r\nx-forwarded-proto: http\r\nx-forwarded-host: app\.internal\r\n/, 'a trusted forwarder that sends none gets the defaults')
  const empty = upstreamHead(parseRequestHead('GET / HTTP/1.1\r\nHost: app.internal\r\nX-Forwarded-For:\r\nX-Forwarded-Proto: \r\nX-Forwarded-Host:\r\nX-Request-Id: r3', '', true), '10.0.0.2')
  t.match(empty, /x-forwarded-for: 10\.0\.0\.2\r\nx-forwarded-proto: http\r\nx-forwarded-host: app\.internal\r\n/, 'empty values say nothing')
})

t.test('other forwarding headers, and the underscore spellings of the usual ones, are kept only from a trusted forwarder', async (t) => {
  const others = 'Forwarded: for=192.0.2.60;proto=https\r\nX-Real-IP: 192.0.2.60\r\nx-forwarded-port: 443\r\nX-Forwarded-Scheme: https\r\nX-Forwarded-Ssl: on\r\nX-Forwarded-Prefix: /shop\r\nX_Forwarded_For: 192.0.2.60\r\nx_forwarded_proto: https\r\nX_FORWARDED_HOST: evil\r\nX_Real_Ip: 192.0.2.60'
  const text = `GET / HTTP/1.1\r\nHost: shop\r\n${others}\r\nAccept: */*`
  t.equal(parseRequestHead(text).text, 'GET / HTTP/1.1\r\nHost: shop\r\nAccept: */*\r\n', 'all dropped from a client that is not trusted')
  t.equal(parseRequestHead(text, '', true).text, `${text}\r\n`, 'all kept, as sent, from a trusted forwarder')
  t.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: shop\r\nX-Forwarded-Fox: 1\r\nForwarded-By: x\r\nX^Real-IP: 1').text.split('\r\n').length, 6, 'names that only look alike are kept')
})

t.test('request heads that could be read two ways are refused', async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ['GET / HTTP/1.1\r\nhost: x\r\nfoo: a\nbar: b', 400, /bare CR or LF/],
    ['GET / HTTP/1.1\nhost: x', 400, /bare CR or LF/],
    ['GET / HTTP/1.1\r\nhost: x\r\nfoo: a\rb', 400, /bare CR or LF/],
    ['GET / HTTP/1.1\r\nhost: x\r\nfoo: a\0', 400, /NUL/],
    ['GET / HTTP/1.1\r\nhost: x\r\n folded: value', 400, /invalid header name/],
    ['GET / HTTP/1.1\r\nhost: x\r\ncontent-length : 5', 400, /invalid header name/],
    ['GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6', 400, /conflicting/],
    ['GET / HTTP/1.1\r\nhost: x\r\ncontent-length: -1', 400, /invalid Content-Length/],
    ['GET / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked, gzip', 400, /unsupported Transfer-Encoding/],
    ['GET / HTTP/1.0\r\ntransfer-encoding: chunked', 400, /unsupported Transfer-Encoding/],
    ['GET / HTTP/1.1\r\nhost: a\r\nhost: b', 400, /more than one Host/],
    ['GET  / HTTP/1.1\r\nhost: x', 400, /malformed request line/],
    ['G(T / HTTP/1.1\r\nhost: x', 400, /invalid method/],
  ]
  for (const [text, status, problem] of cases) {
    const error = refused(() => parseRequestHead(text))
    t.equal(error.status, status, JSON.stringify(text))
    t.match(error.problem, problem)
  }
  t.equal(parseRequestHead('GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 5, 5').contentLength, 5, 'a repeated equal length is one length')
  t.match(refused(() => parseRequestHead('GET / HTTP/1.1\r\nhost: x\r\ncontent-length: \u00a05')).problem, /invalid Content-Length/, 'only SP and HTAB are trimmed, not NBSP')
  t.match(refused(() => parseRequestHead('GET / HTTP/1.1\r\nhost: x\r\nno colon here')).problem, /malformed header line 2/)
})

t.test('header names are matched case-insensitively, and only exactly', async (t) => {
  const head = parseRequestHead('GET / HTTP/1.1\r\nHOST: a\r\nConTent-LENGTH: 4\r\ncontent_length: 9\r\nX-Request-ID: r1\r\nKEEP-ALIVE: 5\r\nAccept: */*')
  t.equal(head.host, 'a')
  t.equal(head.contentLength, 4, 'content_length is another header')
  t.equal(head.requestId, 'r1')
  t.equal(head.text, 'GET / HTTP/1.1\r\nHOST: a\r\nConTent-LENGTH: 4\r\ncontent_length: 9\r\nX-Request-ID: r1\r\nAccept: */*\r\n', 'kept lines in their order, as sent; Keep-Alive dropped')
  const listed = parseRequestHead('GET / HTTP/1.1\r\nhost: a\r\nconnection: X-Trace\r\nx-trace: 1\r\nX-TRACE: 2\r\nx-tracer: 3')
  t.equal(listed.text, 'GET / HTTP/1.1\r\nhost: a\r\nx-tracer: 3\r\n', 'a header named in Connection is dropped in any case')
  const pipelined = parseRequestHead('PATCH /x HTTP/1.1\r\nte: trailers\r\nhost: a\r\nkeep-alive: 1\r\nconnection: keep-alive\r\naccept: */*\r\nupgrade: h2c', 'GET / HTTP/1.1\r\nhost: a\r\n\r\n')
  t.equal(pipelined.text, 'PATCH /x HTTP/1.1\r\nhost: a\r\naccept: */*\r\n', 'dropped lines at the start, middle and end of a head read after another')
  t.equal(pipelined.method, 'PATCH')
  t.equal(parseRequestHead('PURGE /x HTTP/1.1\r\nhost: a').method, 'PURGE', 'a method beyond the common ones')
  t.equal(parseRequestHead('GET / HTTP/1.1\r\nhost:\t spaced \t').host, 'spaced', 'optional whitespace around a value')
})

t.test('a response head: framing by method, status and headers', async (t) => {
  const ok = parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5', 'GET')
  t.same([ok.status, ok.bodyKind, ok.contentLength, ok.keepAlive], [200, 'length', 3, true])
  t.equal(ok.sent, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbody', "the upstream's connection headers are its own")
  t.equal(parseResponseHead('HTTP/1.1 200 OK\r\ncontent-length: 3', 'HEAD').bodyKind, 'none', 'no body after HEAD')
  t.equal(parseResponseHead('HTTP/1.1 304 Not Modified\r\ncontent-length: 3', 'GET').bodyKind, 'none')
  t.equal(parseResponseHead('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked', 'GET').bodyKind, 'chunked')
  const closing = parseResponseHead('HTTP/1.1 200 OK\r\ncontent-type: text/plain', 'GET')
  t.same([closing.bodyKind, closing.keepAlive], ['close', false], 'no length: delimited by the close, never reused')
  t.equal(parseResponseHead('HTTP/1.0 200 OK\r\ncontent-length: 1', 'GET').keepAlive, false)
  t.equal(parseResponseHead('HTTP/1.0 200 OK\r\ncontent-length: 1', 'GET').sent, 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nbody', 'relayed as HTTP/1.1')
  const switched = parseResponseHead('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nKeep-Alive: 5\r\nUpgrade: websocket', 'GET')
  t.equal(switched.sent, 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nbody', "a 101 keeps the headers that say what it switched to")
  t.equal(refused(() => parseResponseHead('HTTP/1.1 2000 OK', 'GET')).status, 502)
  t.equal(refused(() => parseResponseHead('HTTP/1.1 200 OK\r\nx: a\nb', 'GET')).status, 502)
  t.equal(refused(() => parseResponseHead('SPDY/3 200 OK', 'GET')).status, 502)
  t.equal(refused(() => parseResponseHead('HTTP/1.1 1e2 OK', 'GET')).status, 502, 'a status code is three digits')
  t.equal(refused(() => parseResponseHead('HTTP/1.1 200OK', 'GET')).status, 502)
  t.equal(refused(() => parseResponseHead('HTTP/1.2 200 OK', 'GET')).status, 502)
})

t.test('a response head is rewritten where it was read: kept lines move right over dropped ones', async (t) => {
  const cases: Array<[string, string]> = [
    ['HTTP/1.1 200 OK\r\nKeep-Alive: 5\r\na: 1\r\nb: 2', 'HTTP/1.1 200 OK\r\na: 1\r\nb: 2\r\n\r\nbody'],
    ['HTTP/1.1 200 OK\r\na: 1\r\nb: 2\r\nConnection: keep-alive', 'HTTP/1.1 200 OK\r\na: 1\r\nb: 2\r\n\r\nbody'],
    ['HTTP/1.1 200 OK\r\na: 1\r\nTE: x\r\nb: 2\r\nc: 3\r\nTrailer: y\r\nd: 4', 'HTTP/1.1 200 OK\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\nbody'],
    ['HTTP/1.1 204 No Content\r\nConnection: close\r\nKeep-Alive: 1', 'HTTP/1.1 204 No Content\r\n\r\nbody'],
    ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK\r\n\r\nbody'],
  ]
  for (const [text, sent] of cases) {
    t.equal(parseResponseHead(text, 'GET').sent, sent, JSON.stringify(text))
    // After an interim response on the same connection: the bytes before stay as they were.
    t.equal(parseResponseHead(text, 'GET', 'HTTP/1.1 100 Continue\r\n\r\n').sent, sent)
  }
  // A refused head is left as it was read (the marks of its kept lines do not leak into the next one).
  t.equal(refused(() => parseResponseHead('HTTP/1.1 200 OK\r\na: 1\r\ncontent-length: x', 'GET')).status, 502)
  t.equal(parseResponseHead('HTTP/1.1 200 OK\r\nKeep-Alive: 1\r\nTE: 2\r\nc: 3', 'GET').sent, 'HTTP/1.1 200 OK\r\nc: 3\r\n\r\nbody')
})

t.test('connection: close is added in the room dropped lines left, or in a copy', async (t) => {
  const close = (text: string, before = ''): [string, boolean] => {
    const data = Buffer.from(`${before}${text}\r\n\r\nbody`, 'latin1')
    const end = before.length + text.length
    const head = parseResponseBytes(data, before.length, end, 'GET')
    const out = withConnectionClose(data, before.length, head.from, end)
    t.equal(data.toString('latin1', 0, before.length), before, 'the bytes before the head are untouched')
    const inPlace = out.buffer === data.buffer && out.byteOffset >= data.byteOffset && out.byteOffset < data.byteOffset + data.length
    return [out.toString('latin1'), inPlace]
  }
  t.same(close('HTTP/1.1 200 OK\r\ncontent-length: 4\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5'), ['HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbody', true], 'in place')
  t.same(close('HTTP/1.1 200 OK\r\ncontent-length: 4', 'HTTP/1.1 100 Continue\r\n\r\n'), ['HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbody', false], 'copied: no room, and the interim before it is not room')
  t.same(close('HTTP/1.1 200 OK\r\nTE: 1\r\ncontent-length: 4'), ['HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbody', false], 'copied: too little room')
})
