/**
 * Differential fuzzing of the proxy's request parsing. Requests are generated from a seed
 * (HANDOVER_FUZZ_SEED replays a run; HANDOVER_FUZZ_COUNT sets how many), mixing valid
 * shapes with the mutations smuggling is made of, and sent one per connection through a
 * real agent to an upstream that records and strictly parses what it receives. A strict
 * reference parse of each input (fixtures/reference-parser.ts, no code shared with the
 * proxy) says whether the proxy must refuse it or what request it must forward; then:
 * - a request to refuse is answered 400/408/505 and nothing of it reaches the upstream;
 * - a request to forward reaches the upstream as exactly one request, which parses strictly
 *   into the expected method, target, version, Host, end-to-end fields, length and body.
 */
import t from 'tap'
import { RawClient } from './fixtures/raw-client.js'
import { fieldOf } from './fixtures/recording-upstream.js'
import { parseRequest, type Parsed } from './fixtures/reference-parser.js'
import { recordedShop } from './fixtures/strict-setup.js'

const SEED = Number(process.env.HANDOVER_FUZZ_SEED ?? 20261206)
const COUNT = Number(process.env.HANDOVER_FUZZ_COUNT ?? 400)
const TIME_LIMIT_MS = 60_000

/** mulberry32: small, seedable, good enough to pick among shapes. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

type Pick = <T>(choices: readonly T[], weights?: readonly number[]) => T

function picker(next: () => number): Pick {
  return <T>(choices: readonly T[], weights?: readonly number[]): T => {
    if (weights === undefined) return choices[Math.floor(next() * choices.length)]!
    const total = weights.reduce((a, b) => a + b, 0)
    let r = next() * total
    for (let i = 0; i < choices.length; i++) if ((r -= weights[i]!) < 0) return choices[i]!
    return choices[choices.length - 1]!
  }
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'get', 'G(T', 'CONNECT', 'X-CUSTOM']
const TARGETS = ['/', '/a/b?c=d&e=f', '/s?q={x|y}^', '/p%20q', '*', 'http://shop.example/p?x=1', 'https://shop.example:8443', 'HTTP://Shop/q', 'http://u@shop/', 'http:///x', 'ftp://shop/', '/a#frag', '/a\x01b', '/caf\xe9', 'shop:443', '/a\tb']
const VERSIONS = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 ', 'http/1.1']
const HOSTS = ['shop', 'shop:8080', '[::1]:80', '127.0.0.1', '', 'sh op', 'shop/x', 'u@shop', 'shop:80a']
const EXTRAS = ['accept: */*', 'x-a: b', 'X-Mixed-Case: Value With Spaces', 'x-tab:\tv\t', 'x-obs: caf\xe9', 'x-ctl: a\x01b', 'x-del: a\x7f', ' folded: x', 'bad name: x', 'x-empty:', 'keep-alive: 5', 'te: trailers', 'trailer: x-t', 'x-hop: 1']
const CONNECTIONS = ['keep-alive', 'close', 'x-hop', 'content-length', 'Transfer-Encoding', 'host', 'a b', 'close, x-hop', '']
const LENGTH_FORMS = ['N', 'N, N', '0N', 'N, M', '+N', ' N ', 'N,N', '']
const TE_FORMS = ['chunked', 'Chunked', 'gzip, chunked', 'chunked, chunked', 'identity', ' chunked ']
const EXTENSIONS = ['', ';a', ';a=b', ' ;a=b', ';a="q \\" s"', ';a=b c', ';a =b', ';a= b', ';', ';a;b=c', `;x=${'y'.repeat(1100)}`, ' ', ';a\n']
const TRAILERS = ['', 'x-t: 1\r\n', 'x-t: 1\r\nx-u: two words\r\n', 'bad trailer\r\n', 'x-t: 1\n', 'x-t: a\x01\r\n', '\n']

interface Case {
  n: number
  bytes: Buffer
}

function generate(n: number, pick: Pick, next: () => number): Case {
  const method = pick(METHODS, [12, 12, 3, 2, 2, 2, 1, 1, 1, 1])
  const target = pick(TARGETS, [20, 8, 3, 2, 1, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1])
  const version = pick(VERSIONS, [40, 4, 1, 1, 1])
  // Every request names itself, and brings an id, so the proxy adds none.
  const lines = [`${method} ${target} ${version}`, `x-test-id: f${n}`, `x-request-id: r${n}`]
  const hostCount = pick([1, 0, 2], [30, 1, 1])
  for (let i = 0; i < hostCount; i++) lines.push(`host: ${pick(HOSTS, [24, 4, 2, 2, 2, 1, 1, 1, 1])}`)
  const extras = pick([0, 1, 2, 3], [3, 3, 2, 1])
  for (let i = 0; i < extras; i++) lines.push(pick(EXTRAS, [12, 12, 6, 6, 6, 1, 1, 1, 1, 3, 2, 2, 2, 4]))
  if (next() < 0.25) lines.push(`connection: ${pick(CONNECTIONS, [3, 3, 3, 1, 1, 1, 1, 2, 1])}`)
  const framing = pick(['none', 'length', 'chunked', 'both'], [5, 4, 4, 1])
  const size = pick([0, 1, 5, 100], [1, 2, 3, 1])
  const body = 'b'.repeat(size)
  let bodyBytes = ''
  if (framing === 'length' || framing === 'both') {
    const form = pick(LENGTH_FORMS, [30, 3, 2, 1, 1, 2, 2, 1])
    lines.push(`content-length: ${form.replace(/N/g, String(size)).replace(/M/g, String(size + 1))}`)
    bodyBytes = body
  }
  if (framing === 'chunked' || framing === 'both') {
    lines.push(`transfer-encoding: ${pick(TE_FORMS, [30, 3, 1, 1, 1, 2])}`)
    bodyBytes = chunked(body, pick, next)
  }
  // Now and then a line ends in a bare LF or carries a bare CR.
  let head = lines.join('\r\n')
  if (next() < 0.04) {
    const at = head.indexOf('\r\n', Math.floor(next() * head.length))
    if (at !== -1) head = head.slice(0, at) + pick(['\n', '\r', '\r\r\n']) + head.slice(at + 2)
  }
  return { n, bytes: Buffer.from(`${head}\r\n\r\n${bodyBytes}`, 'latin1') }
}

function chunked(body: string, pick: Pick, next: () => number): string {
  const mutated = (text: string): string => (next() < 0.02 ? text.replace('\r\n', '\n') : text)
  let out = ''
  for (let at = 0; at < body.length; ) {
    const size = Math.min(body.length - at, 1 + Math.floor(next() * 40))
    const ext = pick(EXTENSIONS, [40, 4, 4, 2, 2, 1, 2, 2, 1, 2, 1, 1, 1])
    out += mutated(`${size.toString(16)}${ext}\r\n${body.slice(at, at + size)}\r\n`)
    at += size
  }
  return out + mutated(`0${pick(EXTENSIONS, [40, 4, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1])}\r\n${pick(TRAILERS, [20, 4, 3, 1, 1, 1, 1])}\r\n`)
}

interface Forwarded {
  method: string
  target: string
  version: string
  host: string
  fields: Array<[string, string]>
  length: number | undefined
  body: string
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const HOST = /^(\[[0-9A-Za-z:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(:[0-9]{0,5})?$/
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']
const ADDED = ['host', 'content-length', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']

/** What the proxy must forward for `bytes`, or undefined when it must refuse them. */
function expected(bytes: Buffer): Forwarded | undefined {
  const parsed = parseRequest(bytes, 0, 'strict')
  if (parsed.kind !== 'ok' || parsed.request.end !== bytes.length) return undefined
  const request = parsed.request
  if (request.method === 'CONNECT' || !/^[\x21\x22\x24-\x7e]+$/.test(request.target)) return undefined
  let target = request.target
  let authority: string | undefined
  if (target === '*') {
    if (request.method !== 'OPTIONS') return undefined
  } else if (!target.startsWith('/')) {
    const match = /^(https?):\/\/([^/?]*)(.*)$/i.exec(target)
    if (match === null || match[2] === '' || !HOST.test(match[2]!)) return undefined
    authority = match[2]!
    target = match[3]!.startsWith('/') ? match[3]! : `/${match[3]}`
  }
  const hosts = values(request, 'host')
  if (hosts.length > 1 || (request.version === '1' && hosts.length === 0) || !hosts.every((h) => HOST.test(h))) return undefined
  const listed: string[] = []
  for (const value of values(request, 'connection')) {
    for (const part of value.split(',').map((p) => p.trim().toLowerCase())) {
      if (part === '') continue
      if (!TOKEN.test(part) || ['content-length', 'transfer-encoding', 'host'].includes(part)) return undefined
      listed.push(part)
    }
  }
  const dropped = new Set([...HOP_BY_HOP, ...listed, ...ADDED])
  return {
    method: request.method,
    target,
    version: request.version,
    host: authority ?? hosts[0] ?? '',
    fields: request.fields.filter(([name]) => !dropped.has(name.toLowerCase())),
    length: request.chunked || values(request, 'content-length').length === 0 ? undefined : request.body.length,
    body: request.body.toString('latin1'),
  }
}

/** What the upstream read, in the same terms. */
function received(request: Parsed): Forwarded {
  const lengths = values(request, 'content-length')
  return {
    method: request.method,
    target: request.target,
    version: request.version,
    host: values(request, 'host').join(' | '),
    fields: request.fields.filter(([name]) => !ADDED.includes(name.toLowerCase())),
    length: lengths.length === 0 ? undefined : lengths.length === 1 && /^(0|[1-9][0-9]*)$/.test(lengths[0]!) ? Number(lengths[0]) : Number.NaN,
    body: request.body.toString('latin1'),
  }
}

function values(request: Parsed, name: string): string[] {
  return request.fields.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v)
}

/** The status the proxy answered on a fresh connection, or 0 when it closed without one. */
async function send(port: number, bytes: Buffer): Promise<number> {
  const raw = await RawClient.connect(port)
  try {
    raw.write(bytes)
    return (await raw.response(3000)).status
  } catch {
    return 0
  } finally {
    raw.close()
  }
}

t.test(`seed ${SEED}: ${COUNT} generated requests; each forwarded one is exactly the request meant, each refused one reaches nothing`, async (t) => {
  // Short timeouts: a mutation that leaves a message unfinished is answered 408 quickly.
  const { upstream, port } = await recordedShop(t, 'strict', {}, { limits: { headTimeoutSeconds: 0.2, bodyTimeoutSeconds: 0.2 } })
  const next = random(SEED)
  const pick = picker(next)
  const started = Date.now()
  const failures: string[] = []
  let forwarded = 0
  let refused = 0
  let n = 0
  for (; n < COUNT && Date.now() - started < TIME_LIMIT_MS; n++) {
    const sample = generate(n, pick, next)
    const want = expected(sample.bytes)
    const before = upstream.requests.length
    const status = await send(port, sample.bytes)
    const got = upstream.requests.slice(before)
    const replay = `case ${n} (HANDOVER_FUZZ_SEED=${SEED}): ${JSON.stringify(sample.bytes.toString('latin1'))}`
    if (want === undefined) {
      refused++
      if (![400, 408, 505].includes(status)) failures.push(`${replay}: must be refused, answered ${status}`)
      if (got.length > 0) failures.push(`${replay}: must be refused, but the upstream read ${got.length} request(s)`)
      continue
    }
    forwarded++
    if (status !== 200) failures.push(`${replay}: must be forwarded, answered ${status}`)
    if (got.length !== 1 || fieldOf(got[0]!, 'x-test-id') !== `f${n}`) {
      failures.push(`${replay}: the upstream read ${got.length} request(s) for it`)
      continue
    }
    const actual = received(got[0]!)
    if (JSON.stringify(actual) !== JSON.stringify(want)) failures.push(`${replay}: forwarded as ${JSON.stringify(actual)}, meant ${JSON.stringify(want)}`)
  }
  t.same(failures.slice(0, 10), [], `no disagreement (${failures.length} in all)`)
  t.equal(upstream.connections.filter((c) => c.invalid !== undefined).length, 0, 'the strict upstream could parse every byte it received')
  t.ok(forwarded >= n / 5 && refused >= n / 5, `both kinds were exercised: ${forwarded} forwarded, ${refused} refused of ${n}`)
  t.ok(n >= Math.min(COUNT, 100), `enough cases ran within the time limit (${n})`)
})
