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
import { HeadError } from './errors.js'
import { Field, fieldId, fieldLine, fieldValue, hopByHop, isToken, KeptLines, scan, trimSpace } from './head-fields.js'
import { nextRequestId } from './request-id.js'

export type BodyKind = 'none' | 'length' | 'chunked' | 'close'

export interface RequestHead {
  method: string
  http10: boolean
  /** Request line and end-to-end headers, each line ending in CRLF, no final CRLF. */
  lines: string
  bodyKind: BodyKind
  contentLength: number
  /** The connection stays open after this exchange: HTTP/1.1 without `Connection: close`. */
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
    // HTTP/1.0 keep-alive is not offered: it would need a Connection header in every answer.
    keepAlive: !http10 && !hasToken(f.connection, 'close'),
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
    const id = fieldId(i)
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
    const id = fieldId(i)
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
