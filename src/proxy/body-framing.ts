/**
 * Finds where a message body ends without decoding it: the proxy forwards body bytes as
 * they came and only needs to know which byte is the last one of this message, so the next
 * bytes on the same connection (a pipelined request, or the next response) are not mixed in.
 * One instance per connection side, reset per message, so a body costs no allocation.
 */
import { HeadError } from './errors.js'
import type { BodyKind } from './http-head.js'

const enum Chunk {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  FinalLf,
  Done,
}

// A size line with more hex digits than this could not be a real chunk (2^52 bytes).
const MAX_SIZE_DIGITS = 13

export class BodyFraming {
  private kind: BodyKind = 'none'
  private remaining = 0
  private state = Chunk.Size
  private digits = 0

  /** `status` is what a malformed chunked body is answered with (400 from a client, 502 from an upstream). */
  constructor(private readonly status: number) {}

  reset(kind: BodyKind, contentLength: number): void {
    this.kind = kind
    this.remaining = kind === 'length' ? contentLength : 0
    this.state = Chunk.Size
    this.digits = 0
  }

  /**
   * Consumes bytes from `start`; returns the index just past the body's last byte, or -1
   * when every byte belongs to the body and more are needed. A close-delimited body never ends here.
   */
  scan(data: Buffer, start: number): number {
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

  private scanChunked(data: Buffer, start: number): number {
    let i = start
    const length = data.length
    while (i < length) {
      const c = data[i]!
      switch (this.state) {
        case Chunk.Size: {
          const digit = hex(c)
          if (digit >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw this.bad('chunk size too large')
            this.remaining = this.remaining * 16 + digit
          } else if (this.digits === 0) throw this.bad('chunk size missing')
          else if (c === 0x3b /* ; */ || c === 0x20 || c === 0x09) this.state = Chunk.Extension
          else if (c === 0x0d) this.state = Chunk.SizeLf
          else throw this.bad('invalid chunk size')
          i++
          break
        }
        case Chunk.Extension:
          if (c === 0x0d) this.state = Chunk.SizeLf
          else if (c === 0x0a) throw this.bad('bare LF in chunk extension')
          i++
          break
        case Chunk.SizeLf:
          if (c !== 0x0a) throw this.bad('chunk size line not ended by CRLF')
          this.digits = 0
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
          if (c !== 0x0d) throw this.bad('chunk data not followed by CRLF')
          this.state = Chunk.DataLf
          i++
          break
        case Chunk.DataLf:
          if (c !== 0x0a) throw this.bad('chunk data not followed by CRLF')
          this.state = Chunk.Size
          i++
          break
        case Chunk.TrailerStart:
          this.state = c === 0x0d ? Chunk.FinalLf : Chunk.Trailer
          i++
          break
        case Chunk.Trailer:
          if (c === 0x0d) this.state = Chunk.TrailerLf
          i++
          break
        case Chunk.TrailerLf:
          if (c !== 0x0a) throw this.bad('trailer line not ended by CRLF')
          this.state = Chunk.TrailerStart
          i++
          break
        case Chunk.FinalLf:
          if (c !== 0x0a) throw this.bad('chunked body not ended by CRLF')
          this.state = Chunk.Done
          return i + 1
        case Chunk.Done:
          return i
      }
    }
    return -1
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
