/**
 * The request head the upstream gets, as bytes: the client's end-to-end lines (rewritten in
 * place where they were read, see http-head.ts) and then the proxy's own headers. One buffer
 * of the exact size, written with one socket write. The lines that are the same for every
 * request of a client connection are built once per connection (forwardedLines), so a
 * request costs a few copies and no string.
 *
 * Two lines the client sent may be written by the proxy instead: Host, when the target came
 * in absolute-form (its authority names the host), and one canonical Content-Length, when
 * the client's was a list, repeated or zero-padded (see http-head.ts).
 *
 * X-Forwarded-For, -Proto and -Host say who the client is, how it came and what it asked
 * for. The parser keeps a client's own only when it is a trusted forwarder
 * (forwarder-trust.ts): the address is then appended to its X-Forwarded-For, and its proto
 * and host are passed on. From any other client they are replaced by this connection's
 * address, "http" and the Host header.
 */
import type { RequestHead } from './http-head.js'
import { nextRequestId, REQUEST_ID_LENGTH, writeRequestId } from './request-id.js'

/** The client connection, as the head of its requests needs it. */
export interface ForwardedFrom {
  readonly address: string
  /** forwardedLines(address), kept by the connection. */
  readonly forwarded: Buffer
}

const FORWARDED_HOST = Buffer.from('x-forwarded-host: ', 'latin1')
const HOST = Buffer.from('host: ', 'latin1')
const CONTENT_LENGTH = Buffer.from('content-length: ', 'latin1')
const REQUEST_ID = Buffer.from('x-request-id: ', 'latin1')
const UPGRADE = Buffer.from('connection: upgrade\r\nupgrade: ', 'latin1')
const CR = 13
const LF = 10

/** The X-Forwarded-For and X-Forwarded-Proto lines for a request from `clientAddress`. */
export function forwardedLines(clientAddress: string, forwardedFor?: string, proto = 'http'): Buffer {
  const list = forwardedFor === undefined ? clientAddress : `${forwardedFor}, ${clientAddress}`
  return Buffer.from(`x-forwarded-for: ${list}\r\nx-forwarded-proto: ${proto}\r\n`, 'latin1')
}

/** The head for `head`'s request from `client`, CRLF CRLF included. */
export function upstreamHead(head: RequestHead, client: ForwardedFrom): Buffer {
  // Kept on the head, so a retried request carries the same id as its first attempt.
  if (head.requestId === undefined && head.addedRequestId === 0) head.addedRequestId = nextRequestId()
  // Only a request that brings its own forwarding headers (a trusted forwarder's) needs lines of its own.
  const forwarded = head.forwardedFor === undefined && head.forwardedProto === undefined ? client.forwarded : forwardedLines(client.address, head.forwardedFor, head.forwardedProto)
  const host = head.forwardedHost ?? head.host
  const out = Buffer.allocUnsafe(sizeOf(head, forwarded, host))
  out.set(head.lines, 0)
  let at = head.lines.length
  if (head.hostLine) at = line(out, at, HOST, head.host!)
  if (head.lengthLine) at = crlf(out, writeDecimal(out, at, head.contentLength, CONTENT_LENGTH))
  out.set(forwarded, at)
  at += forwarded.length
  if (host !== undefined) at = line(out, at, FORWARDED_HOST, host)
  if (head.requestId === undefined) {
    out.set(REQUEST_ID, at)
    at = crlf(out, writeRequestId(out, at + REQUEST_ID.length, head.addedRequestId))
  }
  if (head.upgrade !== undefined) at = line(out, at, UPGRADE, head.upgrade)
  crlf(out, at)
  return out
}

function sizeOf(head: RequestHead, forwarded: Buffer, host: string | undefined): number {
  let size = head.lines.length + forwarded.length + 2
  if (head.hostLine) size += HOST.length + head.host!.length + 2
  if (head.lengthLine) size += CONTENT_LENGTH.length + digitCount(head.contentLength) + 2
  if (host !== undefined) size += FORWARDED_HOST.length + host.length + 2
  if (head.requestId === undefined) size += REQUEST_ID.length + REQUEST_ID_LENGTH + 2
  if (head.upgrade !== undefined) size += UPGRADE.length + head.upgrade.length + 2
  return size
}

/** Writes `start`, then `value` and CRLF at out[at]; returns where they end. */
function line(out: Buffer, at: number, start: Buffer, value: string): number {
  out.set(start, at)
  at += start.length
  // Every value here was read as latin1, so each char code is its byte. A loop, not
  // Buffer.write: for a value this short the call into the runtime costs more than the copy.
  for (let i = 0; i < value.length; i++) out[at + i] = value.charCodeAt(i)
  return crlf(out, at + value.length)
}

/** Writes `start` and then `n`'s decimal digits at out[at]; returns where they end. */
function writeDecimal(out: Buffer, at: number, n: number, start: Buffer): number {
  out.set(start, at)
  const end = at + start.length + digitCount(n)
  for (let i = end - 1, rest = n; i >= at + start.length; i--, rest = Math.floor(rest / 10)) out[i] = 48 + (rest % 10)
  return end
}

function digitCount(n: number): number {
  let digits = 1
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++
  return digits
}

function crlf(out: Buffer, at: number): number {
  out[at] = CR
  out[at + 1] = LF
  return at + 2
}
