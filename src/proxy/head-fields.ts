/**
 * The header fields of one HTTP/1.1 head, found in one pass over its characters: where each
 * field's line starts and ends, where its colon is, and which of the headers the proxy acts
 * on it is. Names are compared in place and values are sliced only when asked for, so a
 * field the proxy does not act on costs no string at all. What the fields mean for a
 * request or a response is http-head.ts's business.
 */
import { HeadError } from './errors.js'

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
export const Field = {
  Other: 0,
  // Connection through Upgrade are the fixed hop-by-hop headers (see hopByHop).
  Connection: 1,
  KeepAlive: 2,
  ProxyConnection: 3,
  Te: 4,
  Trailer: 5,
  Upgrade: 6,
  ContentLength: 7,
  TransferEncoding: 8,
  Host: 9,
  RequestId: 10,
  ForwardedFor: 11,
  ForwardedProto: 12,
  ForwardedHost: 13,
} as const
export type Field = (typeof Field)[keyof typeof Field]

export interface Scan {
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

export function isToken(text: string, end: number): boolean {
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
export function scan(text: string, status: number): Scan {
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
export function trimSpace(text: string): string {
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

/** Which known header scanned field `i` is. */
export function fieldId(i: number): Field {
  return IDS[i] as Field
}

export function fieldValue(f: Scan, i: number): string {
  return valueOf(f.text, COLONS[i]!, ENDS[i]!)
}

/** The field's whole line, without its CRLF. */
export function fieldLine(f: Scan, i: number): string {
  return f.text.slice(STARTS[i]!, ENDS[i]!)
}

/** True when scanned header `i` is hop-by-hop: a fixed one, or one named in Connection. */
export function hopByHop(f: Scan, i: number, extra: Set<string> | undefined): boolean {
  const id = IDS[i]!
  if (id >= Field.Connection && id <= Field.Upgrade) return true
  if (extra === undefined) return false
  return extra.has(f.text.slice(STARTS[i]!, COLONS[i]!).toLowerCase())
}

/**
 * The kept header lines of a head, copied as runs: consecutive kept lines are one slice of
 * the head, so a head that drops two fields costs three slices, not one string per line.
 */
export class KeptLines {
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
