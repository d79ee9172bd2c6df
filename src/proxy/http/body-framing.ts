/**
 * Finds where a message body ends without decoding it: the proxy forwards body bytes as
 * they came and only needs to know which byte is the last one of this message, so the next
 * bytes on the same connection (a pipelined request, or the next response) are not mixed in.
 * One instance per connection side, reset per message, so a body costs no allocation.
 *
 * A chunked body is read to RFC 9112 §7.1's grammar, byte by byte: chunk lines end in CRLF
 * (a bare LF is refused, since a lenient server would end the line there and read what
 * follows as another message), chunk extensions follow their grammar and are bounded in
 * length, and trailer fields are checked to the field grammar and then dropped: the proxy
 * forwards the last chunk and the final CRLF only, so no byte of a trailer section reaches
 * the other side to be read two ways (RFC 9110 §6.5.1 lets a recipient discard trailers).
 */
import { HeadError } from '../errors.js'
import { isTokenChar, LINE_CHARS } from './head-fields.js'
import type { BodyKind } from './http-head.js'

const enum Chunk {
  Size,
  /** Whitespace after the size or an extension: only ";" may follow. */
  ExtSemi,
  /** After ";": optional whitespace, then the extension's name. */
  ExtNameStart,
  ExtName,
  ExtAfterName,
  ExtValueStart,
  ExtToken,
  ExtQuoted,
  ExtEscape,
  ExtAfterQuoted,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  TrailerName,
  TrailerValue,
  TrailerLf,
  FinalLf,
  Done,
}

// A size line with more hex digits than this could not be a real chunk (2^52 bytes).
const MAX_SIZE_DIGITS = 13
/** Bytes of chunk extensions one chunk line may carry; nothing the proxy forwards needs more. */
export const MAX_CHUNK_EXTENSION = 1024
/** Bytes of trailer fields one message may carry (they are read, checked and dropped). */
export const MAX_TRAILER_SECTION = 16 * 1024

const CR = 0x0d
const LF = 0x0a
const SP = 0x20
const HTAB = 0x09
const SEMI = 0x3b
const EQUALS = 0x3d
const DQUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a

export class BodyFraming {
  private kind: BodyKind = 'none'
  private remaining = 0
  private state = Chunk.Size
  private digits = 0
  private extension = 0
  private trailer = 0
  /**
   * Trailer bytes the last scan found in its data, to leave out of what is forwarded:
   * data[skipFrom, skipTo), or skipFrom -1 when there were none.
   */
  private skipFrom = -1
  private skipTo = -1

  /** `status` is what a malformed chunked body is answered with (400 from a client, 502 from an upstream). */
  constructor(private readonly status: number) {}

  reset(kind: BodyKind, contentLength: number): void {
    this.kind = kind
    this.remaining = kind === 'length' ? contentLength : 0
    this.state = Chunk.Size
    this.digits = 0
    this.extension = 0
    this.trailer = 0
    this.skipFrom = -1
  }

  /**
   * Consumes bytes from `start`; returns the index just past the body's last byte, or -1
   * when every byte belongs to the body and more are needed. A close-delimited body never ends here.
   */
  scan(data: Buffer, start: number): number {
    this.skipFrom = -1
    switch (this.kind) {
      case 'none':
        return start
      case 'close':
        return -1
      case 'length': {
        const available = data.length - start
        if (available < this.remaining) {
          this.remaining -= available
          return -1
        }
        const end = start + this.remaining
        this.remaining = 0
        return end
      }
      case 'chunked':
        return this.scanChunked(data, start)
    }
  }

  /**
   * The bytes of data[from, stop) to forward, after a scan of that data: all of them, as a
   * view, unless the scan found trailer fields there, which are left out (a copy).
   */
  forwardable(data: Buffer, from: number, stop: number): Buffer {
    if (this.skipFrom === -1) return from === 0 && stop === data.length ? data : data.subarray(from, stop)
    const skipTo = Math.min(this.skipTo, stop)
    return Buffer.concat([data.subarray(from, this.skipFrom), data.subarray(skipTo, stop)])
  }

  private scanChunked(data: Buffer, start: number): number {
    let i = start
    const length = data.length
    if (this.state === Chunk.TrailerName || this.state === Chunk.TrailerValue || this.state === Chunk.TrailerLf) this.skipFrom = start
    while (i < length) {
      const c = data[i]!
      switch (this.state) {
        case Chunk.Size: {
          const digit = hex(c)
          if (digit >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw this.bad('chunk size too large')
            this.remaining = this.remaining * 16 + digit
          } else if (this.digits === 0) throw this.bad('chunk size missing')
          else if (c === CR) this.state = Chunk.SizeLf
          else if (c === SEMI || c === SP || c === HTAB) {
            // The extension's first byte; extensionByte counts the rest.
            this.extension = 1
            this.state = c === SEMI ? Chunk.ExtNameStart : Chunk.ExtSemi
          }
          else throw this.bad(c === LF ? 'bare LF in a chunk line' : 'invalid chunk size')
          i++
          break
        }
        case Chunk.SizeLf:
          if (c !== LF) throw this.bad('chunk size line not ended by CRLF')
          this.digits = 0
          this.extension = 0
          this.state = this.remaining === 0 ? Chunk.TrailerStart : Chunk.Data
          i++
          break
        case Chunk.Data: {
          const take = Math.min(this.remaining, length - i)
          this.remaining -= take
          i += take
          if (this.remaining === 0) this.state = Chunk.DataCr
          break
        }
        case Chunk.DataCr:
          if (c !== CR) throw this.bad('chunk data not followed by CRLF')
          this.state = Chunk.DataLf
          i++
          break
        case Chunk.DataLf:
          if (c !== LF) throw this.bad('chunk data not followed by CRLF')
          this.state = Chunk.Size
          i++
          break
        case Chunk.TrailerStart:
          if (c === CR) this.state = Chunk.FinalLf
          else if (isTokenChar(c)) {
            if (this.skipFrom === -1) this.skipFrom = i
            this.state = Chunk.TrailerName
            this.trailerByte()
          } else throw this.bad(c === LF ? 'bare LF after the last chunk' : 'malformed trailer field')
          i++
          break
        case Chunk.TrailerName:
          if (c === COLON) this.state = Chunk.TrailerValue
          else if (!isTokenChar(c)) throw this.bad('malformed trailer field')
          this.trailerByte()
          i++
          break
        case Chunk.TrailerValue:
          if (c === CR) this.state = Chunk.TrailerLf
          else if (LINE_CHARS[c] !== 1) throw this.bad(c === LF ? 'bare LF in a trailer field' : 'invalid character in a trailer field')
          else this.trailerByte()
          i++
          break
        case Chunk.TrailerLf:
          if (c !== LF) throw this.bad('trailer field not ended by CRLF')
          this.state = Chunk.TrailerStart
          this.skipTo = i + 1
          i++
          break
        case Chunk.FinalLf:
          if (c !== LF) throw this.bad('chunked body not ended by CRLF')
          this.state = Chunk.Done
          return i + 1
        case Chunk.Done:
          return i
        default:
          this.extensionByte(c)
          i++
      }
    }
    if (this.state === Chunk.TrailerName || this.state === Chunk.TrailerValue || this.state === Chunk.TrailerLf) this.skipTo = length
    return -1
  }

  /** One byte of a chunk extension (RFC 9112 §7.1.1), in one of the Ext states. */
  private extensionByte(c: number): void {
    if (c !== CR && ++this.extension > MAX_CHUNK_EXTENSION) throw this.bad('chunk extension too long')
    const space = c === SP || c === HTAB
    switch (this.state) {
      case Chunk.ExtSemi:
        if (c === SEMI) this.state = Chunk.ExtNameStart
        else if (!space) throw this.badExtension(c)
        return
      case Chunk.ExtNameStart:
        if (isTokenChar(c)) this.state = Chunk.ExtName
        else if (!space) throw this.badExtension(c)
        return
      case Chunk.ExtName:
        if (isTokenChar(c)) return
        if (c === CR) this.state = Chunk.SizeLf
        else if (c === SEMI) this.state = Chunk.ExtNameStart
        else if (c === EQUALS) this.state = Chunk.ExtValueStart
        else if (space) this.state = Chunk.ExtAfterName
        else throw this.badExtension(c)
        return
      case Chunk.ExtAfterName:
        if (c === SEMI) this.state = Chunk.ExtNameStart
        else if (c === EQUALS) this.state = Chunk.ExtValueStart
        else if (!space) throw this.badExtension(c)
        return
      case Chunk.ExtValueStart:
        if (c === DQUOTE) this.state = Chunk.ExtQuoted
        else if (isTokenChar(c)) this.state = Chunk.ExtToken
        else if (!space) throw this.badExtension(c)
        return
      case Chunk.ExtToken:
        if (isTokenChar(c)) return
        if (c === CR) this.state = Chunk.SizeLf
        else if (c === SEMI) this.state = Chunk.ExtNameStart
        else if (space) this.state = Chunk.ExtSemi
        else throw this.badExtension(c)
        return
      case Chunk.ExtQuoted:
        // qdtext: HTAB, SP, VCHAR but DQUOTE and backslash, obs-text.
        if (c === DQUOTE) this.state = Chunk.ExtAfterQuoted
        else if (c === BACKSLASH) this.state = Chunk.ExtEscape
        else if (LINE_CHARS[c] !== 1) throw this.badExtension(c)
        return
      case Chunk.ExtEscape:
        if (LINE_CHARS[c] !== 1) throw this.badExtension(c)
        this.state = Chunk.ExtQuoted
        return
      case Chunk.ExtAfterQuoted:
        if (c === CR) this.state = Chunk.SizeLf
        else if (c === SEMI) this.state = Chunk.ExtNameStart
        else if (space) this.state = Chunk.ExtSemi
        else throw this.badExtension(c)
        return
    }
  }

  private trailerByte(): void {
    if (++this.trailer > MAX_TRAILER_SECTION) throw this.bad('trailer section too long')
  }

  private badExtension(c: number): HeadError {
    return this.bad(c === LF ? 'bare LF in a chunk extension' : 'malformed chunk extension')
  }

  private bad(problem: string): HeadError {
    return new HeadError(this.status, problem)
  }
}

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  return -1
}
