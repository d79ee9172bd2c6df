/**
 * Through a real agent to an upstream that records every byte: requests outside RFC 9112's
 * grammar are answered 400 on a closed connection and nothing of them reaches the upstream;
 * the ones the proxy normalises arrive as exactly the bytes it means to send.
 */
import t from 'tap'
import { waitFor } from './fixtures/http-client.js'
import { RawClient } from './fixtures/raw-client.js'
import { forwarding, rawExchange, recordedShop } from './fixtures/strict-setup.js'

const BODY_REQUEST = 'GET /smuggled HTTP/1.1\r\nhost: shop\r\n\r\n'

// Each refused for a reason a lenient parser behind the proxy could read differently.
const REFUSED: Array<[string, string, RegExp]> = [
  ['Connection naming Content-Length', `POST /a HTTP/1.1\r\nhost: shop\r\nconnection: content-length\r\ncontent-length: ${BODY_REQUEST.length}\r\n\r\n${BODY_REQUEST}`, /Connection names content-length/],
  ['Connection naming Transfer-Encoding', 'POST /a HTTP/1.1\r\nhost: shop\r\nconnection: close, Transfer-Encoding\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n', /Connection names transfer-encoding/],
  ['Connection naming Host', 'GET /a HTTP/1.1\r\nhost: shop\r\nconnection: host\r\n\r\n', /Connection names host/],
  ['Connection with a non-token', 'GET /a HTTP/1.1\r\nhost: shop\r\nconnection: a b\r\n\r\n', /invalid Connection/],
  ['Content-Length and Transfer-Encoding', 'POST /a HTTP/1.1\r\nhost: shop\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n', /both Content-Length and Transfer-Encoding/],
  ['two Transfer-Encoding lines', 'POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n', /unsupported Transfer-Encoding/],
  ['a coding before chunked', 'POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n', /unsupported Transfer-Encoding/],
  ['differing Content-Lengths in a list', 'POST /a HTTP/1.1\r\nhost: shop\r\ncontent-length: 5, 6\r\n\r\nhello!', /conflicting Content-Length/],
  ['a control byte in a header value', 'GET /a HTTP/1.1\r\nhost: shop\r\nx-a: b\x01c\r\n\r\n', /invalid character in header line 2/],
  ['DEL in a header value', 'GET /a HTTP/1.1\r\nhost: shop\r\nx-a: b\x7fc\r\n\r\n', /invalid character in header line 2/],
  ['a control byte in the target', 'GET /a\x01b HTTP/1.1\r\nhost: shop\r\n\r\n', /invalid character in the first line/],
  ['a tab in the target', 'GET /a\tb HTTP/1.1\r\nhost: shop\r\n\r\n', /invalid character in the first line/],
  ['a fragment in the target', 'GET /a#b HTTP/1.1\r\nhost: shop\r\n\r\n', /invalid character in the first line/],
  ['a raw non-ASCII byte in the target', 'GET /caf\xe9 HTTP/1.1\r\nhost: shop\r\n\r\n', /invalid character in the first line/],
  ['a bare LF ending a header line', 'GET /a HTTP/1.1\r\nhost: shop\nx-a: b\r\n\r\n', /bare CR or LF/],
  ['an obsolete line fold', 'GET /a HTTP/1.1\r\nhost: shop\r\nx-a: b\r\n c\r\n\r\n', /invalid header name|malformed header/],
  ['CONNECT', 'CONNECT shop:443 HTTP/1.1\r\nhost: shop:443\r\n\r\n', /CONNECT is not supported/],
  ['"*" for GET', 'GET * HTTP/1.1\r\nhost: shop\r\n\r\n', /for OPTIONS only/],
  ['an absolute-form target with userinfo', 'GET http://user@shop/a HTTP/1.1\r\nhost: shop\r\n\r\n', /invalid authority/],
  ['an absolute-form target of another scheme', 'GET ftp://shop/a HTTP/1.1\r\nhost: shop\r\n\r\n', /neither a path nor an http/],
  ['an invalid Host', 'GET /a HTTP/1.1\r\nhost: shop/evil\r\n\r\n', /invalid Host/],
  ['a bare LF after the last chunk', `POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\n${BODY_REQUEST}`, /bare LF after the last chunk/],
  ['a bare LF ending a chunk size line', 'POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n', /bare LF in a chunk line/],
  ['a bare LF in a trailer field', 'POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\n0\r\nx-t: 1\n\r\n', /bare LF in a trailer field/],
  ['a trailer line that is not a field', 'POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\n0\r\nnot a field\r\n\r\n', /malformed trailer field/],
  ['a chunk extension with a space in its value', 'POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\n5;a=b c\r\nhello\r\n0\r\n\r\n', /malformed chunk extension/],
  ['a chunk extension with a bare LF', 'POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\n5;a\nhello\r\n0\r\n\r\n', /bare LF in a chunk extension/],
  ['a chunk extension longer than 1024 bytes', `POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\n5;a=${'x'.repeat(1100)}\r\nhello\r\n0\r\n\r\n`, /chunk extension too long/],
  ['a trailer section longer than 16 KiB', `POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\n0\r\n${`x-t: ${'v'.repeat(1000)}\r\n`.repeat(17)}\r\n`, /trailer section too long/],
]

t.test('a request outside the grammar: 400, the connection closed, and not one byte of it reaches the upstream', async (t) => {
  const { upstream, port } = await recordedShop(t)
  for (const [name, request, problem] of REFUSED) {
    const { response, closed } = await rawExchange(port, request)
    t.equal(response.status, 400, name)
    t.match(response.body, problem, `${name}: the answer names the problem`)
    t.ok(closed, `${name}: the connection is closed`)
  }
  t.equal(upstream.connections.reduce((n, c) => n + c.bytes.length, 0), 0, 'the upstream received no byte at all')
})

t.test('a refused body that arrives in pieces after its head: still nothing reaches the upstream', async (t) => {
  const { upstream, port, client } = await recordedShop(t)
  const raw = await RawClient.connect(port)
  t.teardown(() => raw.close())
  raw.write('POST /a HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n')
  // The head and the valid part of the body are read and the request sent to blue; nothing is forwarded yet.
  await waitFor(async () => (await client.getService('shop')).slots.blue.inFlight === 1, 'the request to be routed to blue')
  raw.write(`\n${BODY_REQUEST}`)
  t.equal((await raw.response()).status, 400)
  t.ok(await raw.closedByPeer(), 'the connection is closed')
  t.equal(upstream.allBytes, '', 'the upstream received nothing of it')
})

t.test('what the proxy normalises arrives upstream as exactly the bytes it means to send', async (t) => {
  const { upstream, port } = await recordedShop(t)
  const cases: Array<[string, string, string]> = [
    [
      'a repeated equal Content-Length in one line becomes one canonical line',
      'POST /a HTTP/1.1\r\nhost: shop\r\nx-request-id: r1\r\ncontent-length: 5, 5\r\n\r\nhello',
      `POST /a HTTP/1.1\r\nhost: shop\r\nx-request-id: r1\r\ncontent-length: 5\r\n${forwarding('shop')}hello`,
    ],
    [
      'two equal Content-Length lines become one',
      'POST /a HTTP/1.1\r\ncontent-length: 5\r\nhost: shop\r\ncontent-length: 5\r\nx-request-id: r2\r\n\r\nhello',
      `POST /a HTTP/1.1\r\nhost: shop\r\nx-request-id: r2\r\ncontent-length: 5\r\n${forwarding('shop')}hello`,
    ],
    [
      'a zero-padded Content-Length is written without the zeros',
      'POST /a HTTP/1.1\r\nhost: shop\r\nx-request-id: r3\r\ncontent-length: 005\r\n\r\nhello',
      `POST /a HTTP/1.1\r\nhost: shop\r\nx-request-id: r3\r\ncontent-length: 5\r\n${forwarding('shop')}hello`,
    ],
    [
      'a canonical Content-Length stays where it was',
      'POST /a HTTP/1.1\r\ncontent-length: 5\r\nhost: shop\r\nx-request-id: r4\r\n\r\nhello',
      `POST /a HTTP/1.1\r\ncontent-length: 5\r\nhost: shop\r\nx-request-id: r4\r\n${forwarding('shop')}hello`,
    ],
    [
      "an absolute-form target becomes origin-form, and its authority replaces the client's Host",
      'GET http://Shop.Example:8080/p/q?x=1 HTTP/1.1\r\nhost: evil.example\r\nx-request-id: r5\r\n\r\n',
      `GET /p/q?x=1 HTTP/1.1\r\nx-request-id: r5\r\nhost: Shop.Example:8080\r\n${forwarding('Shop.Example:8080')}`,
    ],
    [
      'an absolute-form target without a path gets "/"',
      'GET https://shop?x=1 HTTP/1.1\r\nx-request-id: r6\r\nhost: shop\r\n\r\n',
      `GET /?x=1 HTTP/1.1\r\nx-request-id: r6\r\nhost: shop\r\n${forwarding('shop')}`,
    ],
    [
      'chunk extensions in their grammar are forwarded; trailer fields are checked and dropped',
      'POST /c HTTP/1.1\r\nhost: shop\r\nx-request-id: r7\r\ntransfer-encoding: chunked\r\n\r\n5 ; name="v \\"a\\"";x=1\r\nhello\r\n0;last\r\nx-trailer: 1\r\nx-other: two words\r\n\r\n',
      `POST /c HTTP/1.1\r\nhost: shop\r\nx-request-id: r7\r\ntransfer-encoding: chunked\r\n${forwarding('shop')}5 ; name="v \\"a\\"";x=1\r\nhello\r\n0;last\r\n\r\n`,
    ],
    ['OPTIONS * is forwarded as it came', 'OPTIONS * HTTP/1.1\r\nhost: shop\r\nx-request-id: r8\r\n\r\n', `OPTIONS * HTTP/1.1\r\nhost: shop\r\nx-request-id: r8\r\n${forwarding('shop')}`],
    [
      'printable characters browsers send raw are kept in the target',
      'GET /s?q={a|b}^"c"<d>`e`\\f HTTP/1.1\r\nhost: shop\r\nx-request-id: r9\r\n\r\n',
      `GET /s?q={a|b}^"c"<d>\`e\`\\f HTTP/1.1\r\nhost: shop\r\nx-request-id: r9\r\n${forwarding('shop')}`,
    ],
    [
      'obs-text in a header value is kept',
      'GET /a HTTP/1.1\r\nhost: shop\r\nx-name: caf\xe9\r\nx-request-id: r10\r\n\r\n',
      `GET /a HTTP/1.1\r\nhost: shop\r\nx-name: caf\xe9\r\nx-request-id: r10\r\n${forwarding('shop')}`,
    ],
  ]
  let sent = ''
  for (const [name, request, expected] of cases) {
    const { response } = await rawExchange(port, request, 50)
    t.equal(response.status, 200, `${name}: answered by the upstream`)
    sent += expected
    t.equal(upstream.allBytes, sent, name)
  }
  t.equal(upstream.requests.length, cases.length, 'the upstream read one request per request sent')
})

t.test('Expect: 100-continue: the proxy answers 100 itself, reads the body, then forwards the request without the Expect line', async (t) => {
  const { upstream, port } = await recordedShop(t)
  const raw = await RawClient.connect(port)
  t.teardown(() => raw.close())
  raw.write('POST /e HTTP/1.1\r\nhost: shop\r\nexpect: 100-continue\r\nx-request-id: e1\r\ncontent-length: 5\r\n\r\n')
  t.equal(await raw.bytes(25), 'HTTP/1.1 100 Continue\r\n\r\n', 'the client is told to send its body')
  t.equal(upstream.allBytes, '', 'nothing is forwarded before the body is read')
  raw.write('hello')
  t.equal((await raw.response()).status, 200)
  t.equal(upstream.allBytes, `POST /e HTTP/1.1\r\nhost: shop\r\nx-request-id: e1\r\ncontent-length: 5\r\n${forwarding('shop')}hello`)
})
