/**
 * The header fields of one HTTP/1.1 head, found in one pass over its bytes where they were
 * read: where each field's line starts and ends, where its colon is, and which of the
 * headers the proxy acts on it is. Names are compared in place and values become strings
 * only when asked for, so a field the proxy does not act on costs no string at all. What the
 * fields mean for a request or a response is http-head.ts's business.
 */
import { HeadError } from '../errors.js'

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
  /**
   * Other headers that say where a request came from (Forwarded, X-Real-IP, X-Forwarded-Port
   * and the like, and the underscore spellings a CGI-style server reads as the dashed ones):
   * kept only from a trusted forwarder.
   */
  OtherForwarding: 14,
  Expect: 15,
} as const
export type Field = (typeof Field)[keyof typeof Field]

/** A head at data[at, end), without its final CRLF CRLF (which is at data[end, end + 4)). */
export interface Scan {
  data: Buffer
  at: number
  end: number
  /** Where the first line ends (before its CRLF). */
  firstLineEnd: number
  count: number
  /** Lower-cased Connection header value(s), comma-joined. */
  connection: string
}

const SCAN: Scan = { data: Buffer.alloc(0), at: 0, end: 0, firstLineEnd: 0, count: 0, connection: '' }

const CR = 13
const LF = 10
const COLON = 58
const TOKEN_CHARS = new Uint8Array(256)
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_CHARS[c.charCodeAt(0)] = 1
/** Bytes a header line may hold (RFC 9110 §5.5 field-content, and the first line's): HTAB, SP, VCHAR, obs-text. */
export const LINE_CHARS = new Uint8Array(256)
LINE_CHARS[9] = 1
for (let c = 0x20; c <= 0xff; c++) if (c !== 0x7f) LINE_CHARS[c] = 1

/**
 * Bytes a request line may hold: SP and printable ASCII except "#" (RFC 9112 §3: a method
 * token, a request target, which never carries a fragment, and the version). Checking them
 * here, in the loop that finds the line's end, checks the target without a second pass.
 */
export const REQUEST_LINE_CHARS = new Uint8Array(256)
for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x23) REQUEST_LINE_CHARS[c] = 1

/** True for a byte that may appear in a token (RFC 9110 §5.6.2). */
export function isTokenChar(c: number): boolean {
  return TOKEN_CHARS[c] === 1
}

/** True when data[from, to) is a non-empty token (RFC 9110 §5.6.2). */
export function isToken(data: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (TOKEN_CHARS[data[i]!] !== 1) return false
  return to > from
}

/**
 * Splits the head at data[at, end) into its first line and header fields in one pass over
 * its bytes; throws HeadError on a malformed line. `firstLine` says which bytes the first
 * line may hold (a request line is stricter than a status line).
 */
export function scan(data: Buffer, at: number, end: number, status: number, firstLine: Uint8Array = LINE_CHARS): Scan {
  SCAN.data = data
  SCAN.at = at
  SCAN.end = end
  let next = lineEnd(data, at, end, status, 0, firstLine)
  SCAN.firstLineEnd = next
  let count = 0
  let connection = ''
  while (next < end) {
    const start = next + 2
    const colon = nameEnd(data, start, end, count + 1, status)
    const lineStop = lineEnd(data, colon, end, status, count + 1, LINE_CHARS)
    const id = fieldOf(data, start, colon)
    if (id === Field.Connection) {
      const value = valueOf(SCAN, colon, lineStop).toLowerCase()
      connection = connection === '' ? value : `${connection},${value}`
    }
    STARTS[count] = start
    COLONS[count] = colon
    ENDS[count] = lineStop
    IDS[count] = id
    count++
    next = lineStop
  }
  SCAN.count = count
  SCAN.connection = connection
  return SCAN
}

/**
 * Where the line holding `from` ends: at its CR LF, or at the end of the head. Line 0 is the
 * first line. Every byte is checked against the field-value grammar (RFC 9110 §5.5: VCHAR,
 * obs-text, SP, HTAB) in the same loop that looks for the line end, so the check costs one
 * table load per byte and the head is still read once.
 */
function lineEnd(data: Buffer, from: number, end: number, status: number, line: number, chars: Uint8Array): number {
  for (let i = from; i < end; i++) {
    if (chars[data[i]!] === 1) continue
    // A CR or LF inside a line is not part of a line ending: two parsers could split it differently.
    if (data[i] === CR) {
      if (data[i + 1] === LF && i + 2 < end) return i
      throw new HeadError(status, `bare CR or LF in ${lineName(line)}`)
    }
    if (data[i] === LF) throw new HeadError(status, `bare CR or LF in ${lineName(line)}`)
    throw new HeadError(status, data[i] === 0 ? 'NUL in the head' : `invalid character in ${lineName(line)}`)
  }
  return end
}

// Named only when refused: a message built per line would cost a string per header.
function lineName(line: number): string {
  return line === 0 ? 'the first line' : `header line ${line}`
}

/** The colon after a field name that is a token; throws when there is none. */
function nameEnd(data: Buffer, start: number, end: number, line: number, status: number): number {
  let i = start
  while (i < end && TOKEN_CHARS[data[i]!] === 1) i++
  if (i > start && i < end && data[i] === COLON) return i
  throw new HeadError(status, nameProblem(data, i, end, line))
}

/** Why the name ending at `i` is refused: a character no name may have, or no name at all. */
function nameProblem(data: Buffer, i: number, end: number, line: number): string {
  const c = data[i]
  if (i < end && c !== COLON && c !== CR && c !== LF) {
    const colon = data.indexOf(COLON, i)
    const cr = data.indexOf(CR, i)
    if (colon !== -1 && colon < end && (cr === -1 || colon < cr)) return `invalid header name on line ${line}`
  }
  return `malformed header line ${line}`
}

/** The field's value without the optional whitespace (SP, HTAB) around it. */
function valueOf(f: Scan, colon: number, end: number): string {
  const data = f.data
  let from = colon + 1
  while (from < end && isSpace(data[from]!)) from++
  while (end > from && isSpace(data[end - 1]!)) end--
  return data.toString('latin1', from, end)
}

/** Only SP and HTAB are whitespace in HTTP (RFC 9110 §5.6.3); String.prototype.trim also strips NBSP and others. */
export function trimSpace(text: string): string {
  let from = 0
  let end = text.length
  while (from < end && isSpace(text.charCodeAt(from))) from++
  while (end > from && isSpace(text.charCodeAt(end - 1))) end--
  return text.slice(from, end)
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9
}

// The names the proxy acts on, in lower case.
const KNOWN: ReadonlyArray<readonly [string, Field]> = [
  ['connection', Field.Connection],
  ['keep-alive', Field.KeepAlive],
  ['proxy-connection', Field.ProxyConnection],
  ['te', Field.Te],
  ['trailer', Field.Trailer],
  ['upgrade', Field.Upgrade],
  ['content-length', Field.ContentLength],
  ['transfer-encoding', Field.TransferEncoding],
  ['host', Field.Host],
  ['x-request-id', Field.RequestId],
  ['x-forwarded-for', Field.ForwardedFor],
  ['x-forwarded-proto', Field.ForwardedProto],
  ['x-forwarded-host', Field.ForwardedHost],
  ['forwarded', Field.OtherForwarding],
  ['x-real-ip', Field.OtherForwarding],
  ['x-forwarded-port', Field.OtherForwarding],
  ['x-forwarded-scheme', Field.OtherForwarding],
  ['x-forwarded-ssl', Field.OtherForwarding],
  ['x-forwarded-prefix', Field.OtherForwarding],
  ['x_forwarded_for', Field.OtherForwarding],
  ['x_forwarded_proto', Field.OtherForwarding],
  ['x_forwarded_host', Field.OtherForwarding],
  ['x_real_ip', Field.OtherForwarding],
  ['expect', Field.Expect],
]
// Grouped by length: a field's name is compared only with the known names as long as it.
const NAMES_BY_LENGTH: Array<Array<{ name: Uint8Array; field: Field }>> = []
for (const [name, field] of KNOWN) (NAMES_BY_LENGTH[name.length] ??= []).push({ name: folded(name), field })

function folded(name: string): Uint8Array {
  return Buffer.from(name, 'latin1').map((c) => c | 0x20)
}

/** Which header a field is, compared case-insensitively without making a string of its name. */
function fieldOf(data: Buffer, start: number, colon: number): Field {
  const candidates = NAMES_BY_LENGTH[colon - start]
  if (candidates === undefined) return Field.Other
  for (let k = 0; k < candidates.length; k++) if (named(data, start, candidates[k]!.name)) return candidates[k]!.field
  return Field.Other
}

/**
 * `name` is folded(): lower case letters, '-' and '_' OR-ed with 0x20. The name in `data` is
 * a token, folded the same way byte by byte: upper and lower case letters meet, and no
 * other token character lands on a letter, '-' or a folded '_' (0x7f).
 */
function named(data: Buffer, start: number, name: Uint8Array): boolean {
  for (let i = 0; i < name.length; i++) if ((data[start + i]! | 0x20) !== name[i]) return false
  return true
}

/** Which known header scanned field `i` is. */
export function fieldId(i: number): Field {
  return IDS[i] as Field
}

export function fieldValue(f: Scan, i: number): string {
  return valueOf(f, COLONS[i]!, ENDS[i]!)
}

/** True when scanned header `i` is hop-by-hop: a fixed one, or one named in Connection. */
export function hopByHop(f: Scan, i: number, extra: Set<string> | undefined): boolean {
  const id = IDS[i]!
  if (id >= Field.Connection && id <= Field.Upgrade) return true
  if (extra === undefined) return false
  return extra.has(f.data.toString('latin1', STARTS[i]!, COLONS[i]!).toLowerCase())
}

// Per scanned field, the mark of the last KeptInPlace that kept it.
const KEPT: number[] = []
let rewrites = 0

/**
 * The kept lines of a head rewritten where they were read: each run of consecutive kept
 * lines is moved right, over the bytes of the dropped lines after it, so the rewritten head
 * still ends at the original CRLF CRLF and the body bytes read with it follow it unmoved.
 * The first line is always kept. The head costs no string and no copy.
 */
export class KeptInPlace {
  // Marks this rewrite's kept fields in KEPT, so marks of an earlier head (or of one whose
  // parse threw half-way) never count.
  private readonly mark = ++rewrites

  constructor(private readonly f: Scan) {}

  keep(i: number): void {
    KEPT[i] = this.mark
  }

  /** Rewrites the head; returns where it now starts. The bytes before that are free. */
  done(): number {
    const { data, at, end, count } = this.f
    let write = end
    let runFrom = -1
    let runTo = -1
    // Back to front: line i with the CRLF before it is data[STARTS[i] - 2, ENDS[i]).
    for (let i = count - 1; i >= -1; i--) {
      if (i >= 0 && KEPT[i] !== this.mark) {
        if (runTo !== -1) write = moveRun(data, runFrom, runTo, write)
        runTo = -1
        continue
      }
      if (runTo === -1) runTo = i === -1 ? this.f.firstLineEnd : ENDS[i]!
      runFrom = i === -1 ? at : STARTS[i]! - 2
    }
    return moveRun(data, runFrom, runTo, write)
  }
}

/** Moves data[from, to) so that it ends at `end`; returns where it now starts. */
function moveRun(data: Buffer, from: number, to: number, end: number): number {
  const start = end - (to - from)
  if (start !== from) data.copyWithin(start, from, to)
  return start
}
