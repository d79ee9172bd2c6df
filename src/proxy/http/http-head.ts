/**
 * Reads HTTP/1.1 message heads (RFC 9112) and rewrites them in place for the other side, in
 * one pass over the header lines: hop-by-hop headers (RFC 9110 §7.6.1) are dropped, the body's
 * framing is decided, and the few headers the proxy acts on are picked out. Bodies are never
 * parsed here; they are forwarded byte for byte (see body-framing.ts).
 *
 * Strict to RFC 9112's grammar, because every leniency is a way for the proxy and the server
 * behind it to read one message differently (request smuggling): a request with both
 * Content-Length and Transfer-Encoding, differing Content-Lengths, a transfer coding other
 * than `chunked`, obsolete line folding, a control byte in a line, a Connection header that
 * names Content-Length, Transfer-Encoding or Host, a request target outside its grammar, or
 * CONNECT is refused. What is forwarded is normalised: one Content-Length, and an
 * absolute-form target rewritten to origin-form with Host taken from its authority. The
 * rules are listed, with why, in docs/proxy-parser.md.
 */
import { HeadError } from '../errors.js'
import { Field, fieldId, fieldValue, hopByHop, isToken, isTokenChar, KeptInPlace, REQUEST_LINE_CHARS, scan, trimSpace, type Scan } from './head-fields.js'
import { checkHost, requestTarget } from './request-target.js'

export type BodyKind = 'none' | 'length' | 'chunked' | 'close'

export interface RequestHead {
  method: string
  http10: boolean
  /**
   * Request line and end-to-end headers, each line ending in CRLF, no final CRLF: a view of
   * the bytes the head was read from, rewritten in place (see KeptInPlace); a copy once the
   * buffer holds the request. upstream-head.ts adds the proxy's own lines.
   */
  lines: Buffer
  bodyKind: BodyKind
  contentLength: number
  /** The connection stays open after this exchange: HTTP/1.1 without `Connection: close`. */
  keepAlive: boolean
  /** The protocol asked for with `Connection: upgrade` (e.g. "websocket"). */
  upgrade: string | undefined
  host: string | undefined
  /**
   * The proxy writes the Host line itself (upstream-head.ts): the target came in
   * absolute-form, and its authority, not the client's Host line, names the host.
   */
  hostLine: boolean
  /**
   * The proxy writes one `content-length` line itself: the client sent the length in a form
   * another parser might read differently (a list, several lines, leading zeros).
   */
  lengthLine: boolean
  /**
   * The client waits for `100 Continue` before it sends the body (HTTP/1.1 with a body and
   * `Expect: 100-continue`). The proxy reads a body before it takes an upstream connection,
   * so it sends the 100 itself (exchange.ts) and the Expect line is not forwarded.
   */
  expectContinue: boolean
  /** The client's X-Request-Id, which stays in `lines`. */
  requestId: string | undefined
  /** The id the proxy added when the client sent none (request-id.ts); 0 until first sent upstream. */
  addedRequestId: number
  /** A trusted forwarder's X-Forwarded-* values (from any other client, undefined); dropped from `lines`, rebuilt by upstream-head.ts. */
  forwardedFor: string | undefined
  forwardedProto: string | undefined
  forwardedHost: string | undefined
}

export interface ResponseHead {
  status: number
  /**
   * Where the head, rewritten in place, now starts in the bytes it was read from: status
   * line and end-to-end headers (for a 101 also its Connection and Upgrade), up to and
   * including the final CRLF CRLF, which has not moved.
   */
  from: number
  bodyKind: BodyKind
  contentLength: number
  /** The upstream lets us reuse its connection after this response. */
  keepAlive: boolean
}

const SP = 32
const SLASH = 47
const DIGIT_0 = 48
const DIGIT_1 = 49
const HTTP_1 = Buffer.from('HTTP/1.', 'latin1')

// A switch, not a Set: a Set would hash the method on every request (an uncommon method is
// a new string each time; methodOf shares the common ones).
export function isIdempotent(method: string): boolean {
  switch (method) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
    case 'TRACE':
    case 'PUT':
    case 'DELETE':
      return true
    default:
      return false
  }
}

// The methods of RFC 9110 and PATCH, as the strings every request with one of them shares.
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'].map((name) => ({ name, bytes: Buffer.from(name, 'latin1') }))

/** The method at data[at, to), without a new string for the common ones. */
function methodOf(data: Buffer, at: number, to: number): string {
  for (const { name, bytes } of METHODS) if (bytes.length === to - at && sameBytes(data, at, bytes)) return name
  return data.toString('latin1', at, to)
}

function sameBytes(data: Buffer, at: number, bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (data[at + i] !== bytes[i]) return false
  return true
}

function hasToken(list: string, token: string): boolean {
  if (list === token) return true
  // Most lists do not mention the token at all: answer that without splitting.
  if (list.indexOf(token) === -1) return false
  for (const part of list.split(',')) if (trimSpace(part) === token) return true
  return false
}

/**
 * Names the Connection header declares hop-by-hop, beyond the fixed set. A name that is not
 * a token, or one that would strip the message's framing or its Host before the proxy reads
 * them (RFC 9110 §7.6.1 forbids both), makes the whole message refused.
 */
function listed(connection: string, status: number): Set<string> | undefined {
  if (connection === '' || connection === 'close' || connection === 'keep-alive' || connection === 'upgrade') return undefined
  const names = new Set<string>()
  for (const part of connection.split(',')) {
    const name = trimSpace(part)
    if (name === '') continue
    if (!isTokenText(name)) throw new HeadError(status, 'invalid Connection header')
    if (name === 'content-length' || name === 'transfer-encoding' || name === 'host') throw new HeadError(status, `Connection names ${name}`)
    names.add(name)
  }
  return names
}

function isTokenText(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isTokenChar(text.charCodeAt(i))) return false
  return text.length > 0
}

function contentLengthOf(current: number, value: string, status: number): number {
  // "5, 5" from a folded duplicate is the same length; anything else is ambiguous.
  const parts = value.includes(',') ? value.split(',').map(trimSpace) : [value]
  let length = current
  for (const part of parts) {
    const n = decimal(part)
    if (n === -1) throw new HeadError(status, 'invalid Content-Length')
    if (length >= 0 && length !== n) throw new HeadError(status, 'conflicting Content-Length headers')
    length = n
  }
  return length
}

/** The value of 1 to 15 ASCII digits, or -1 for anything else (signs, spaces, exponents). */
function decimal(text: string): number {
  if (text.length === 0 || text.length > 15) return -1
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - DIGIT_0
    if (digit < 0 || digit > 9) return -1
    n = n * 10 + digit
  }
  return n
}

/** True when a Transfer-Encoding list ends in `chunked` (the only framing a proxy may rely on). */
function endsChunked(value: string): boolean {
  const codings = value.toLowerCase().split(',')
  return trimSpace(codings[codings.length - 1]!) === 'chunked'
}

/** A request's Transfer-Encoding must be exactly `chunked`: the only coding both sides frame the same way. */
function onlyChunked(value: string): boolean {
  return value.length === 7 ? value.toLowerCase() === 'chunked' : false
}

/** A Content-Length value another parser reads the same way: digits only, no leading zero. */
function canonicalLength(value: string): boolean {
  return value.length > 0 && (value.length === 1 || value.charCodeAt(0) !== DIGIT_0) && decimal(value) >= 0
}

/**
 * Parses the request head at data[at, end); `end` is where its final CRLF CRLF starts.
 * `trusted`: the client is a trusted forwarder (forwarder-trust.ts), whose forwarding
 * headers are kept; any other client's are dropped.
 */
export function parseRequestHead(data: Buffer, at: number, end: number, trusted = false): RequestHead {
  const f = scan(data, at, end, 400, REQUEST_LINE_CHARS)
  const lineEnd = f.firstLineEnd
  const first = spaceAt(data, at, lineEnd)
  const second = spaceAt(data, first + 1, lineEnd)
  if (first <= at || second <= first + 1 || spaceAt(data, second + 1, lineEnd) !== -1) throw new HeadError(400, 'malformed request line')
  if (!isToken(data, at, first)) throw new HeadError(400, 'invalid method')
  const minor = httpMinorVersion(data, second + 1, lineEnd)
  if (minor === -1) throw new HeadError(505, 'only HTTP/1.0 and HTTP/1.1 are supported')
  const method = methodOf(data, at, first)
  const target = requestTarget(data, first + 1, second, method)
  const http10 = minor === 0
  const extra = listed(f.connection, 400)
  const upgrading = hasToken(f.connection, 'upgrade')
  const head: RequestHead = {
    method,
    http10,
    lines: data,
    bodyKind: 'none',
    contentLength: -1,
    // HTTP/1.0 keep-alive is not offered: it would need a Connection header in every answer.
    keepAlive: !http10 && !hasToken(f.connection, 'close'),
    upgrade: undefined,
    host: undefined,
    hostLine: target.authority !== undefined,
    lengthLine: false,
    expectContinue: false,
    requestId: undefined,
    addedRequestId: 0,
    forwardedFor: undefined,
    forwardedProto: undefined,
    forwardedHost: undefined,
  }
  const kept = new KeptInPlace(f)
  let chunked = false
  let hostSeen = false
  // The only Content-Length line, while it is one another parser reads the same way; else -1.
  let lengthField = -1
  let lengthFields = 0
  for (let i = 0; i < f.count; i++) {
    const id = fieldId(i)
    if (id === Field.Upgrade && upgrading) head.upgrade = fieldValue(f, i)
    if (hopByHop(f, i, extra)) continue
    switch (id) {
      case Field.ContentLength: {
        const value = fieldValue(f, i)
        head.contentLength = contentLengthOf(head.contentLength, value, 400)
        lengthField = ++lengthFields === 1 && canonicalLength(value) ? i : -1
        continue
      }
      case Field.TransferEncoding:
        if (http10 || chunked || !onlyChunked(fieldValue(f, i))) throw new HeadError(400, 'unsupported Transfer-Encoding')
        chunked = true
        break
      case Field.Host: {
        if (hostSeen) throw new HeadError(400, 'more than one Host header')
        hostSeen = true
        const value = fieldValue(f, i)
        if (!checkHost(value)) throw new HeadError(400, 'invalid Host header')
        // An absolute-form target's authority is the host (RFC 9112 §3.2.2); the line is rewritten.
        if (target.authority !== undefined) continue
        head.host = value
        break
      }
      case Field.RequestId:
        head.requestId = fieldValue(f, i)
        break
      case Field.Expect:
        if (!http10 && fieldValue(f, i).toLowerCase() === '100-continue') {
          head.expectContinue = true
          continue
        }
        break
      // The three X-Forwarded-* lines are always rebuilt (upstream-head.ts); an empty one says nothing.
      case Field.ForwardedFor: {
        const value = trusted ? fieldValue(f, i) : ''
        if (value !== '') head.forwardedFor = head.forwardedFor === undefined ? value : `${head.forwardedFor}, ${value}`
        continue
      }
      case Field.ForwardedProto:
        if (trusted) head.forwardedProto = fieldValue(f, i) || head.forwardedProto
        continue
      case Field.ForwardedHost:
        if (trusted) head.forwardedHost = fieldValue(f, i) || head.forwardedHost
        continue
      case Field.OtherForwarding:
        if (!trusted) continue
        break
    }
    kept.keep(i)
  }
  if (chunked && head.contentLength >= 0) throw new HeadError(400, 'both Content-Length and Transfer-Encoding')
  if (!http10 && !hostSeen) throw new HeadError(400, 'HTTP/1.1 request without Host')
  if (target.authority !== undefined) head.host = target.authority
  if (chunked) head.bodyKind = 'chunked'
  else if (head.contentLength > 0) head.bodyKind = 'length'
  // Without a body there is nothing to wait for: no 100 is sent, and none is needed.
  if (head.bodyKind === 'none') head.expectContinue = false
  if (lengthField >= 0) kept.keep(lengthField)
  else head.lengthLine = lengthFields > 0
  // Nothing above threw: only now is the head rewritten. Its last kept line ends at `end`.
  if (target.authority !== undefined) toOriginForm(f, first, target.pathFrom)
  head.lines = data.subarray(kept.done(), end + 2)
  return head
}

/**
 * Rewrites an absolute-form request line in place to origin-form: the method and its space
 * move right to just before the path, over the scheme and authority, and the head now starts
 * there. `pathFrom` is where the path starts; when the target had none, the byte before it
 * (the authority's last) becomes the "/" origin-form needs.
 */
function toOriginForm(f: Scan, methodEnd: number, pathFrom: number): void {
  const data = f.data
  let from = pathFrom
  if (data[from] !== SLASH) data[--from] = SLASH
  const start = from - (methodEnd + 1 - f.at)
  data.copyWithin(start, f.at, methodEnd + 1)
  f.at = start
}

/**
 * Parses the response head at data[at, end) (`end` is where its final CRLF CRLF starts) and
 * rewrites it in place for the client: hop-by-hop lines dropped, HTTP/1.0 relayed as 1.1.
 * `method` is the request's: a response to HEAD has no body whatever its headers say.
 */
export function parseResponseHead(data: Buffer, at: number, end: number, method: string): ResponseHead {
  const f = scan(data, at, end, 502)
  const lineEnd = f.firstLineEnd
  const minor = httpMinorVersion(data, at, at + 8)
  if (minor === -1 || data[at + 8] !== SP || lineEnd < at + 12) throw new HeadError(502, 'malformed status line')
  const status = statusCode(data, at + 9)
  if (status < 100 || (lineEnd > at + 12 && data[at + 12] !== SP)) throw new HeadError(502, 'malformed status code')
  const http10 = minor === 0
  const extra = listed(f.connection, 502)
  const head: ResponseHead = {
    status,
    from: at,
    bodyKind: 'close',
    contentLength: -1,
    keepAlive: http10 ? hasToken(f.connection, 'keep-alive') : !hasToken(f.connection, 'close'),
  }
  const kept = new KeptInPlace(f)
  let chunked = false
  let transferEncoding = false
  for (let i = 0; i < f.count; i++) {
    const id = fieldId(i)
    // A 101's own Connection and Upgrade lines tell the client what it switched to.
    if (status === 101 && (id === Field.Connection || id === Field.Upgrade)) kept.keep(i)
    if (hopByHop(f, i, extra)) continue
    if (id === Field.ContentLength) head.contentLength = contentLengthOf(head.contentLength, fieldValue(f, i), 502)
    else if (id === Field.TransferEncoding) {
      transferEncoding = true
      chunked = endsChunked(fieldValue(f, i))
    }
    kept.keep(i)
  }
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) head.bodyKind = 'none'
  else if (chunked) head.bodyKind = 'chunked'
  else if (head.contentLength >= 0) head.bodyKind = head.contentLength === 0 ? 'none' : 'length'
  // A body delimited by the upstream closing cannot share the upstream connection.
  if (head.bodyKind === 'close' || (transferEncoding && !chunked)) {
    head.bodyKind = 'close'
    head.keepAlive = false
  }
  // Nothing above threw: only now is the head rewritten.
  if (http10) data[at + 7] = DIGIT_1
  head.from = kept.done()
  return head
}

const CONNECTION_CLOSE = Buffer.from('connection: close\r\n', 'latin1')

/**
 * Adds `connection: close` as the last line of a rewritten response head, data[from, end + 4)
 * (read at `at`; the bytes between are free). In place when dropped lines left room, else in
 * a copy. Returns the head and every byte read after it, from the head's first byte.
 */
export function withConnectionClose(data: Buffer, at: number, from: number, end: number): Buffer {
  const size = CONNECTION_CLOSE.length
  // Just after the last header line's CRLF: the empty line that ends the head.
  const emptyLine = end + 2
  if (from - at >= size) {
    data.copyWithin(from - size, from, emptyLine)
    CONNECTION_CLOSE.copy(data, emptyLine - size)
    return data.subarray(from - size)
  }
  const out = Buffer.allocUnsafe(data.length - from + size)
  data.copy(out, 0, from, emptyLine)
  CONNECTION_CLOSE.copy(out, emptyLine - from)
  data.copy(out, emptyLine - from + size, emptyLine)
  return out
}

/** The first SP in data[from, to), or -1. */
function spaceAt(data: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) if (data[i] === SP) return i
  return -1
}

/** 0 or 1 when data[from, to) is exactly `HTTP/1.0` or `HTTP/1.1`; -1 for anything else. */
function httpMinorVersion(data: Buffer, from: number, to: number): number {
  if (to - from !== 8) return -1
  for (let i = 0; i < 7; i++) if (data[from + i] !== HTTP_1[i]) return -1
  const minor = data[from + 7]! - DIGIT_0
  return minor === 0 || minor === 1 ? minor : -1
}

/** The three-digit status code at data[from]; -1 when those are not three digits. */
function statusCode(data: Buffer, from: number): number {
  let code = 0
  for (let i = from; i < from + 3; i++) {
    const digit = data[i]! - DIGIT_0
    if (digit < 0 || digit > 9) return -1
    code = code * 10 + digit
  }
  return code
}
