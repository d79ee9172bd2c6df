/**
 * Reads HTTP/1.1 message heads (RFC 9112) and writes the head the other side gets, in one
 * pass over the header lines: hop-by-hop headers (RFC 9110 §7.6.1) are dropped, the body's
 * framing is decided, and the few headers the proxy acts on are picked out. Bodies are never
 * parsed here; they are forwarded byte for byte (see body-framing.ts).
 *
 * Strict where leniency enables request smuggling: a request with both Content-Length and
 * Transfer-Encoding, differing Content-Lengths, a transfer coding other than a final
 * `chunked`, obsolete line folding, or a malformed header line is refused.
 */
import { randomBytes } from 'node:crypto'
import { HeadError } from './errors.js'

export type BodyKind = 'none' | 'length' | 'chunked' | 'close'

export interface RequestHead {
  method: string
  http10: boolean
  /** Request line and end-to-end headers, each line ending in CRLF, no final CRLF. */
  lines: string
  bodyKind: BodyKind
  contentLength: number
  /** The client lets us keep its connection open after this exchange. */
  keepAlive: boolean
  /** The protocol asked for with `Connection: upgrade` (e.g. "websocket"). */
  upgrade: string | undefined
  host: string | undefined
  /** The client's X-Request-Id, which stays in `lines`. */
  requestId: string | undefined
  /** The id the proxy added when the client sent none (set when first sent upstream). */
  addedRequestId: string | undefined
  forwardedFor: string | undefined
  forwardedProto: string | undefined
}

export interface ResponseHead {
  status: number
  /** Status line and end-to-end headers, each ending in CRLF, no final CRLF. */
  lines: string
  bodyKind: BodyKind
  contentLength: number
  /** The upstream lets us reuse its connection after this response. */
  keepAlive: boolean
  /** For a 101: the upgrade headers, passed through as they were. */
  upgradeLines: string
}

const DIGITS = /^[0-9]{1,15}$/
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method)
}

// Parsing is synchronous, so one scratch space serves every head: a parse allocates the
// strings it keeps and nothing else. Per header field: where its line starts, its colon,
// where the line ends (before CRLF) and which header the proxy knows it as. Entries past
// the count are stale and never read.
const STARTS: number[] = []
const COLONS: number[] = []
const ENDS: number[] = []
const IDS: number[] = []

// The headers the proxy acts on. Every other field keeps its bytes as sent and gets no
// string of its own.
const enum Field {
  Other,
  Connection,
  KeepAlive,
  ProxyConnection,
  Te,
  Trailer,
  Upgrade,
  ContentLength,
  TransferEncoding,
  Host,
  RequestId,
  ForwardedFor,
  ForwardedProto,
  ForwardedHost,
}

interface Scan {
  text: string
  firstLine: string
  count: number
  /** Lower-cased Connection header value(s), comma-joined. */
  connection: string
}

const SCAN: Scan = { text: '', firstLine: '', count: 0, connection: '' }

const CR = 13
const LF = 10
const COLON = 58
const TOKEN_CHARS = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_CHARS[c.charCodeAt(0)] = 1

function isToken(text: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c > 127 || TOKEN_CHARS[c] !== 1) return false
  }
  return end > 0
}

/**
 * Splits the head into its first line and header fields in one pass over its characters;
 * throws HeadError on a malformed line. `text` is latin1: one character per byte.
 */
function scan(text: string, status: number): Scan {
  const length = text.length
  let at = lineEnd(text, 0, status, 'the first line')
  SCAN.text = text
  SCAN.firstLine = text.slice(0, at)
  let count = 0
  let connection = ''
  while (at < length) {
    const start = at + 2
    const colon = nameEnd(text, start, count + 1, status)
    const end = lineEnd(text, colon, status, `header line ${count + 1}`)
    const id = fieldOf(text, start, colon)
    if (id === Field.Connection) {
      const value = valueOf(text, colon, end).toLowerCase()
      connection = connection === '' ? value : `${connection},${value}`
    }
    STARTS[count] = start
    COLONS[count] = colon
    ENDS[count] = end
    IDS[count] = id
    count++
    at = end
  }
  SCAN.count = count
  SCAN.connection = connection
  return SCAN
}

/** Where the line holding `from` ends: at its CR LF, or at the end of the head. */
function lineEnd(text: string, from: number, status: number, line: string): number {
  const length = text.length
  for (let i = from; i < length; i++) {
    const c = text.charCodeAt(i)
    if (c > CR) continue
    // A CR or LF inside a line is not part of a line ending: two parsers could split it differently.
    if (c === CR) {
      if (text.charCodeAt(i + 1) === LF && i + 2 < length) return i
      throw new HeadError(status, `bare CR or LF in ${line}`)
    }
    if (c === LF) throw new HeadError(status, `bare CR or LF in ${line}`)
    if (c === 0) throw new HeadError(status, 'NUL in the head')
  }
  return length
}

/** The colon after a field name that is a token; throws when there is none. */
function nameEnd(text: string, start: number, line: number, status: number): number {
  const length = text.length
  let i = start
  for (; i < length; i++) {
    const c = text.charCodeAt(i)
    if (c === COLON || c === CR || c === LF) break
    if (c > 127 || TOKEN_CHARS[c] !== 1) {
      const colon = text.indexOf(':', i)
      const cr = text.indexOf('\r', i)
      throw new HeadError(status, colon === -1 || (cr !== -1 && cr < colon) ? `malformed header line ${line}` : `invalid header name on line ${line}`)
    }
  }
  if (i === start || text.charCodeAt(i) !== COLON) throw new HeadError(status, `malformed header line ${line}`)
  return i
}

/** The field's value without the optional whitespace (SP, HTAB) around it. */
function valueOf(text: string, colon: number, end: number): string {
  let from = colon + 1
  while (from < end && isSpace(text.charCodeAt(from))) from++
  while (end > from && isSpace(text.charCodeAt(end - 1))) end--
  return text.slice(from, end)
}

/** Only SP and HTAB are whitespace in HTTP (RFC 9110 §5.6.3); String.prototype.trim also strips NBSP and others. */
function trimSpace(text: string): string {
  return valueOf(text, -1, text.length)
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9
}

/** Which header a field is, compared case-insensitively without making a string of its name. */
function fieldOf(text: string, start: number, colon: number): Field {
  switch (colon - start) {
    case 2:
      return named(text, start, 'te') ? Field.Te : Field.Other
    case 4:
      return named(text, start, 'host') ? Field.Host : Field.Other
    case 7:
      return named(text, start, 'upgrade') ? Field.Upgrade : named(text, start, 'trailer') ? Field.Trailer : Field.Other
    case 10:
      return named(text, start, 'connection') ? Field.Connection : named(text, start, 'keep-alive') ? Field.KeepAlive : Field.Other
    case 12:
      return named(text, start, 'x-request-id') ? Field.RequestId : Field.Other
    case 14:
      return named(text, start, 'content-length') ? Field.ContentLength : Field.Other
    case 15:
      return named(text, start, 'x-forwarded-for') ? Field.ForwardedFor : Field.Other
    case 16:
      return named(text, start, 'x-forwarded-host') ? Field.ForwardedHost : named(text, start, 'proxy-connection') ? Field.ProxyConnection : Field.Other
    case 17:
      return named(text, start, 'transfer-encoding') ? Field.TransferEncoding : named(text, start, 'x-forwarded-proto') ? Field.ForwardedProto : Field.Other
    default:
      return Field.Other
  }
}

/**
 * `name` is lower case letters and '-'. The name in `text` is a token, so OR-ing 0x20 folds
 * exactly its upper case letters: no other token character lands on a letter or '-'.
 */
function named(text: string, start: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if ((text.charCodeAt(start + i) | 0x20) !== name.charCodeAt(i)) return false
  return true
}

function fieldValue(f: Scan, i: number): string {
  return valueOf(f.text, COLONS[i]!, ENDS[i]!)
}

/** The field's whole line, without its CRLF. */
function fieldLine(f: Scan, i: number): string {
  return f.text.slice(STARTS[i]!, ENDS[i]!)
}

/** True when scanned header `i` is hop-by-hop: a fixed one, or one named in Connection. */
function hopByHop(f: Scan, i: number, extra: Set<string> | undefined): boolean {
  const id = IDS[i]!
  if (id >= Field.Connection && id <= Field.Upgrade) return true
  if (extra === undefined) return false
  return extra.has(f.text.slice(STARTS[i]!, COLONS[i]!).toLowerCase())
}

/**
 * The kept header lines of a head, copied as runs: consecutive kept lines are one slice of
 * the head, so a head that drops two fields costs three slices, not one string per line.
 */
class KeptLines {
  private out: string
  private from = -1
  private to = -1

  constructor(
    private readonly text: string,
    firstLine: string,
  ) {
    this.out = firstLine + '\r\n'
  }

  keep(i: number): void {
    if (this.from !== -1 && STARTS[i] === this.to + 2) {
      this.to = ENDS[i]!
      return
    }
    this.flush()
    this.from = STARTS[i]!
    this.to = ENDS[i]!
  }

  /** Every kept line, each ending in CRLF. */
  done(): string {
    this.flush()
    return this.out
  }

  private flush(): void {
    if (this.from !== -1) this.out += this.text.slice(this.from, this.to) + '\r\n'
    this.from = -1
  }
}

function hasToken(list: string, token: string): boolean {
  if (list === token) return true
  // Most lists do not mention the token at all: answer that without splitting.
  if (list.indexOf(token) === -1) return false
  for (const part of list.split(',')) if (trimSpace(part) === token) return true
  return false
}

/** Names the Connection header declares hop-by-hop, beyond the fixed set. */
function listed(connection: string): Set<string> | undefined {
  if (connection === '' || connection === 'close' || connection === 'keep-alive' || connection === 'upgrade') return undefined
  const names = new Set<string>()
  for (const part of connection.split(',')) {
    const name = trimSpace(part)
    if (name !== '') names.add(name)
  }
  return names
}

function contentLengthOf(current: number, value: string, status: number): number {
  // "5, 5" from a folded duplicate is the same length; anything else is ambiguous.
  const parts = value.includes(',') ? value.split(',').map(trimSpace) : [value]
  let length = current
  for (const part of parts) {
    if (!DIGITS.test(part)) throw new HeadError(status, 'invalid Content-Length')
    const n = Number(part)
    if (length >= 0 && length !== n) throw new HeadError(status, 'conflicting Content-Length headers')
    length = n
  }
  return length
}

/** True when a Transfer-Encoding list ends in `chunked` (the only framing a proxy may rely on). */
function endsChunked(value: string): boolean {
  const codings = value.toLowerCase().split(',')
  return trimSpace(codings[codings.length - 1]!) === 'chunked'
}

/** `text` is the head without its final CRLF CRLF. */
export function parseRequestHead(text: string): RequestHead {
  const f = scan(text, 400)
  const requestLine = f.firstLine
  const first = requestLine.indexOf(' ')
  const second = requestLine.indexOf(' ', first + 1)
  if (first <= 0 || second <= first + 1 || requestLine.indexOf(' ', second + 1) !== -1) throw new HeadError(400, 'malformed request line')
  const method = requestLine.slice(0, first)
  const version = requestLine.slice(second + 1)
  if (!isToken(method, method.length)) throw new HeadError(400, 'invalid method')
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') throw new HeadError(505, 'only HTTP/1.0 and HTTP/1.1 are supported')
  const http10 = version === 'HTTP/1.0'
  const extra = listed(f.connection)
  const upgrading = hasToken(f.connection, 'upgrade')
  const head: RequestHead = {
    method,
    http10,
    lines: '',
    bodyKind: 'none',
    contentLength: -1,
    keepAlive: http10 ? hasToken(f.connection, 'keep-alive') : !hasToken(f.connection, 'close'),
    upgrade: undefined,
    host: undefined,
    requestId: undefined,
    addedRequestId: undefined,
    forwardedFor: undefined,
    forwardedProto: undefined,
  }
  const kept = new KeptLines(f.text, requestLine)
  let chunked = false
  for (let i = 0; i < f.count; i++) {
    const id = IDS[i]!
    if (id === Field.Upgrade && upgrading) head.upgrade = fieldValue(f, i)
    if (hopByHop(f, i, extra)) continue
    switch (id) {
      case Field.ContentLength:
        head.contentLength = contentLengthOf(head.contentLength, fieldValue(f, i), 400)
        break
      case Field.TransferEncoding:
        if (http10 || !endsChunked(fieldValue(f, i))) throw new HeadError(400, 'unsupported Transfer-Encoding')
        chunked = true
        break
      case Field.Host:
        if (head.host !== undefined) throw new HeadError(400, 'more than one Host header')
        head.host = fieldValue(f, i)
        break
      case Field.RequestId:
        head.requestId = fieldValue(f, i)
        break
      case Field.ForwardedFor: {
        const value = fieldValue(f, i)
        head.forwardedFor = head.forwardedFor === undefined ? value : `${head.forwardedFor}, ${value}`
        continue
      }
      case Field.ForwardedProto:
        head.forwardedProto = fieldValue(f, i)
        continue
      case Field.ForwardedHost:
        // Ours replaces it: only the Host this proxy saw is vouched for.
        continue
    }
    kept.keep(i)
  }
  if (chunked && head.contentLength >= 0) throw new HeadError(400, 'both Content-Length and Transfer-Encoding')
  if (!http10 && head.host === undefined) throw new HeadError(400, 'HTTP/1.1 request without Host')
  if (chunked) head.bodyKind = 'chunked'
  else if (head.contentLength > 0) head.bodyKind = 'length'
  head.lines = kept.done()
  return head
}

/** `method` is the request's: a response to HEAD has no body whatever its headers say. */
export function parseResponseHead(text: string, method: string): ResponseHead {
  const f = scan(text, 502)
  const statusLine = f.firstLine
  if (!(statusLine.startsWith('HTTP/1.1 ') || statusLine.startsWith('HTTP/1.0 ')) || statusLine.length < 12) throw new HeadError(502, 'malformed status line')
  const status = Number(statusLine.slice(9, 12))
  if (!Number.isInteger(status) || status < 100 || status > 999 || (statusLine.length > 12 && statusLine[12] !== ' ')) throw new HeadError(502, 'malformed status code')
  const http10 = statusLine.charCodeAt(7) === 48
  const extra = listed(f.connection)
  const head: ResponseHead = {
    status,
    lines: '',
    bodyKind: 'close',
    contentLength: -1,
    keepAlive: http10 ? hasToken(f.connection, 'keep-alive') : !hasToken(f.connection, 'close'),
    upgradeLines: '',
  }
  const kept = new KeptLines(f.text, http10 ? 'HTTP/1.1' + statusLine.slice(8) : statusLine)
  let chunked = false
  let transferEncoding = false
  for (let i = 0; i < f.count; i++) {
    const id = IDS[i]!
    if (status === 101 && (id === Field.Connection || id === Field.Upgrade)) head.upgradeLines += fieldLine(f, i) + '\r\n'
    if (hopByHop(f, i, extra)) continue
    if (id === Field.ContentLength) head.contentLength = contentLengthOf(head.contentLength, fieldValue(f, i), 502)
    else if (id === Field.TransferEncoding) {
      transferEncoding = true
      chunked = endsChunked(fieldValue(f, i))
    }
    kept.keep(i)
  }
  head.lines = kept.done()
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) head.bodyKind = 'none'
  else if (chunked) head.bodyKind = 'chunked'
  else if (head.contentLength >= 0) head.bodyKind = head.contentLength === 0 ? 'none' : 'length'
  // A body delimited by the upstream closing cannot share the upstream connection.
  if (head.bodyKind === 'close' || (transferEncoding && !chunked)) {
    head.bodyKind = 'close'
    head.keepAlive = false
  }
  return head
}

// Request ids in the UUID v4 shape (log tools expect it): 74 random bits drawn once per agent
// process, then a counter in the last 48 bits. Unique within the process by construction and
// across processes by the random part, at a fraction of randomUUID's cost per request.
const ID_PREFIX = ((): string => {
  const hex = randomBytes(10).toString('hex')
  const variant = ((parseInt(hex[12]!, 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(16, 19)}-`
})()
let idCounter = 0

function nextRequestId(): string {
  idCounter = (idCounter + 1) % 0x1000000000000
  return ID_PREFIX + idCounter.toString(16).padStart(12, '0')
}

/** The request head the upstream gets: the client's end-to-end headers plus ours, CRLF CRLF included. */
export function upstreamHead(head: RequestHead, clientAddress: string): string {
  let text = head.lines
  text += `x-forwarded-for: ${head.forwardedFor === undefined ? clientAddress : `${head.forwardedFor}, ${clientAddress}`}\r\n`
  text += `x-forwarded-proto: ${head.forwardedProto ?? 'http'}\r\n`
  if (head.host !== undefined) text += `x-forwarded-host: ${head.host}\r\n`
  if (head.requestId === undefined) {
    // Kept on the head, so a retried request carries the same id as its first attempt.
    head.addedRequestId ??= nextRequestId()
    text += `x-request-id: ${head.addedRequestId}\r\n`
  }
  if (head.upgrade !== undefined) text += `connection: upgrade\r\nupgrade: ${head.upgrade}\r\n`
  return text + '\r\n'
}
