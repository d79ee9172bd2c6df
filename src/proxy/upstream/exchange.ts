/**
 * One request and its response, from the moment its head is read until the last response
 * byte is written to the client. It may wait in the buffer, wait for an upstream connection,
 * be retried once on the other slot, or turn into a tunnel (WebSocket). Body bytes in both
 * directions are forwarded as they came; only the heads are rewritten.
 *
 * A request with a body takes an upstream connection only once its body is read whole, or
 * once MAX_UNSENT bytes of it wait: a client that sends a head and then trickles (or stops)
 * its body holds its own connection and a bounded amount of memory, never one of the slot's
 * upstream connections, so it cannot make the slot's other requests wait.
 */
import type { Socket } from 'node:net'
import { HeadError } from '../errors.js'
import { isIdempotent, parseResponseHead, withConnectionClose, type RequestHead, type ResponseHead } from '../http/http-head.js'
import { answerText } from '../http/responses.js'
import type { Slot } from '../routing/slot.js'
import { Tunnel } from './tunnel.js'
import { upstreamHead, type ForwardedFrom } from '../http/upstream-head.js'
import type { UpstreamConnection, UpstreamUser } from './upstream-connection.js'
import type { PoolWaiter } from './upstream-pool.js'

/** Status recorded when the client connection closed before the response finished (nginx's convention). */
export const CLIENT_CLOSED = 499

const CRLFCRLF = Buffer.from('\r\n\r\n')
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1')
const MAX_RESPONSE_HEAD = 64 * 1024
// Request bytes kept for a possible retry; a bigger request is not retried.
const MAX_RETAINED = 64 * 1024
// Body bytes read ahead of an upstream connection before the client is paused.
const MAX_UNSENT = 64 * 1024

/** The client connection as an exchange sees it. */
export interface ClientSide extends ForwardedFrom {
  readonly socket: Socket
  /** A trusted forwarder speaks for many clients, so the per-client cap does not count it. */
  readonly trusted: boolean
  /** The exchange is over; with `close` the connection ends after what was written. */
  exchangeDone(close: boolean): void
  becomeTunnel(tunnel: Tunnel): void
  pause(): void
  resume(): void
}

/** The service as an exchange sees it. */
export interface ExchangeHost {
  readonly name: string
  /** An active, healthy slot other than `failed`, for one retry. */
  alternative(failed: Slot): Slot | undefined
  /** A held request's body grew by `bytes`; false when that breaks the buffer's byte limit. */
  heldBytes(exchange: Exchange, bytes: number): boolean
  /** The client left; a held or queued request is forgotten. */
  abandoned(exchange: Exchange): void
  /** Closing: exchanges end their client connection after the response. */
  readonly closing: boolean
  /** The proxy answered a request itself with `status` (for the metrics). */
  answeredByProxy(status: number): void
}

/** `reading`: sent to a slot, its body still arriving before it takes an upstream connection. */
export type ExchangeState = 'new' | 'held' | 'reading' | 'queued' | 'forwarding' | 'done'

export class Exchange implements UpstreamUser, PoolWaiter {
  state: ExchangeState = 'new'
  /**
   * When its head was read; the buffer's wait counts from here. Set for every request, not
   * only on a hold: a field that held 0 until then would change its number representation
   * at the first hold, and V8 would migrate every held exchange to the new representation,
   * one by one, in the middle of the release (measured: 10,000 migrations).
   */
  readonly arrivedAt = performance.now()
  bufferedBytes = 0
  slot: Slot | undefined
  private upstream: UpstreamConnection | undefined
  /** Request body bytes not yet written upstream, or kept for a retry. */
  private chunks: Buffer[] = []
  private unsent = 0
  private retained = 0
  private retryable: boolean
  private requestDone = false
  private response: ResponseHead | undefined
  /** The start of a response head that has not all arrived yet (a copy). */
  private headBytes: Buffer | undefined
  private closeAfter: boolean
  /**
   * When it was first sent to a slot, NaN until then: the slot's request duration counts from
   * here. Set on every request (a held one would otherwise be the first to change it, and the
   * code compiled for exchanges would be discarded at the release).
   */
  private startedAt = Number.NaN
  /** When it joined its pool's queue (set by the pool); NaN, a double, from the start for the reason above. */
  queuedAt = Number.NaN
  /** The slot whose per-client count holds this request (Slot.admit). */
  private admitted: Slot | undefined
  /**
   * It was held in the buffer: the buffer's own bounds (count, bytes, wait) admitted it, and
   * a release sends every held request at once, which the per-client cap would refuse.
   */
  private released = false

  constructor(
    readonly client: ClientSide,
    readonly head: RequestHead,
    private readonly host: ExchangeHost,
  ) {
    this.retryable = isIdempotent(head.method)
    this.closeAfter = !head.keepAlive
  }

  get waiting(): boolean {
    return this.state === 'queued'
  }

  // ---- from the client connection ----

  body(chunk: Buffer): void {
    if (this.state === 'done') return
    if (this.state === 'forwarding' && this.upstream !== undefined) {
      this.keep(chunk)
      if (!this.upstream.socket.write(chunk)) this.client.pause()
      return
    }
    this.chunks.push(chunk)
    this.unsent += chunk.length
    // Kept until sent anyway; only a small request stays retryable after that.
    this.retained += chunk.length
    if (this.retained > MAX_RETAINED) this.retryable = false
    if (this.state === 'held' && !this.host.heldBytes(this, chunk.length)) return
    if (this.state !== 'held' && this.unsent > MAX_UNSENT) {
      this.client.pause()
      if (this.state === 'reading') this.queue(this.slot!)
    }
  }

  bodyEnd(): void {
    this.requestDone = true
    if (this.state === 'reading') this.queue(this.slot!)
  }

  /** The client connection closed before the exchange was over. */
  clientGone(): void {
    if (this.state === 'done') return
    this.leave(CLIENT_CLOSED)
  }

  // ---- routing ----

  forward(slot: Slot): void {
    // Its arrival, or its release if it was held; a retry keeps the first attempt's.
    if (Number.isNaN(this.startedAt)) this.startedAt = this.state === 'held' ? performance.now() : this.arrivedAt
    if (this.state === 'held') this.released = true
    this.slot = slot
    slot.begin()
    if (this.head.upgrade !== undefined) {
      this.state = 'queued'
      this.attach(slot.pool.dedicated())
    } else if (!this.requestDone && this.unsent <= MAX_UNSENT) {
      this.state = 'reading'
      // The client waits for this before it sends the body the proxy now waits for.
      if (this.head.expectContinue && this.unsent === 0) {
        this.head.expectContinue = false
        this.client.socket.write(CONTINUE)
      }
    } else this.queue(slot)
  }

  /** Takes a connection of `slot`'s pool, or waits for one, if this client is under its cap. */
  private queue(slot: Slot): void {
    const address = this.client.address
    if (!this.client.trusted && !this.released) {
      if (!slot.admit(address)) {
        this.host.answeredByProxy(429)
        this.answer(429, `too many requests: ${address} already has its share of ${this.host.name} slot ${slot.name}'s upstream connections; retry shortly`, true)
        return
      }
      this.admitted = slot
    }
    this.state = 'queued'
    slot.pool.acquire(this)
  }

  /** The pool's wait limit passed without a free connection. */
  waitExpired(seconds: number): void {
    this.host.answeredByProxy(503)
    this.answer(503, `service unavailable: ${this.host.name} slot ${this.slot?.name ?? '?'} had no free upstream connection within ${seconds}s; retry shortly`, true)
  }

  private dismiss(): void {
    this.admitted?.dismiss(this.client.address)
    this.admitted = undefined
  }

  attach(connection: UpstreamConnection): void {
    this.state = 'forwarding'
    this.upstream = connection
    connection.user = this
    const socket = connection.socket
    // Built when sent, not when read: a held request keeps only its parsed head.
    const head = upstreamHead(this.head, this.client)
    if (this.chunks.length === 0) socket.write(head)
    else {
      socket.cork()
      socket.write(head)
      for (const chunk of this.chunks) socket.write(chunk)
      socket.uncork()
    }
    if (!this.retryable) this.chunks = []
    this.unsent = 0
    this.client.resume()
  }

  /** Answers without an upstream (no slot, buffer limits, bad request). */
  answer(status: number, body: string, retry: boolean, close = false): void {
    if (this.state === 'done') return
    this.leave(status)
    if (this.response !== undefined) {
      // Part of the upstream's response already went out: another answer would corrupt it.
      this.client.socket.destroy()
      return
    }
    if (!this.requestDone || close || this.host.closing) this.closeAfter = true
    if (this.client.socket.writable) this.client.socket.write(answerText(status, body, { retry, close: this.closeAfter }), 'latin1')
    this.client.exchangeDone(this.closeAfter)
  }

  // ---- from the upstream connection ----

  onUpstreamData(chunk: Buffer): void {
    if (this.retryable) {
      // The first byte of an answer: the request may have run, so it is never sent again.
      this.retryable = false
      this.chunks = []
    }
    if (this.response === undefined) this.readHead(chunk)
    else this.relayBody(chunk, 0, 0)
  }

  onUpstreamDrain(): void {
    this.client.resume()
  }

  onClientDrain(): void {
    this.upstream?.socket.resume()
  }

  onUpstreamClose(error: NodeJS.ErrnoException | undefined, connected: boolean): void {
    this.upstream = undefined
    if (this.state !== 'forwarding') return
    if (this.response?.bodyKind === 'close') {
      this.complete(false)
      return
    }
    if (this.mayRetry(error)) {
      const other = this.slot === undefined ? undefined : this.host.alternative(this.slot)
      if (other !== undefined) {
        this.retry(other, error, connected)
        return
      }
    }
    this.fail(error, connected)
  }

  private readHead(chunk: Buffer): void {
    const data = this.headBytes === undefined ? chunk : Buffer.concat([this.headBytes, chunk])
    this.headBytes = undefined
    let at = 0
    // Interim (1xx) responses come before the final one, possibly in the same read.
    for (;;) {
      const end = data.indexOf(CRLFCRLF, at)
      if (end === -1) {
        if (data.length - at > MAX_RESPONSE_HEAD) this.badResponse(new HeadError(502, 'response head too large'))
        // A copy: `chunk` is the upstream connection's read buffer, reused by its next read.
        else this.headBytes = Buffer.from(data.subarray(at))
        return
      }
      let head: ResponseHead
      try {
        head = parseResponseHead(data, at, end, this.head.method)
      } catch (error) {
        this.badResponse(error as HeadError)
        return
      }
      const bodyAt = end + 4
      if (head.status === 101) {
        this.upgrade(head, data.subarray(head.from))
        return
      }
      if (head.status >= 100 && head.status < 200) {
        if (!this.head.http10) this.upstream!.relay(this.client.socket, data.subarray(head.from, bodyAt))
        at = bodyAt
        continue
      }
      this.startResponse(head)
      // The head and the body bytes read with it go out in one write (one syscall, no writev).
      if (!this.closeAfter) this.relayBody(data, bodyAt, head.from)
      else {
        const out = withConnectionClose(data, at, head.from, end)
        this.relayBody(out, out.length - (data.length - bodyAt), 0)
      }
      return
    }
  }

  private startResponse(head: ResponseHead): void {
    this.response = head
    if (!head.keepAlive && head.bodyKind === 'close') this.closeAfter = true
    // A slot that is draining or gone sheds its keep-alive clients with this response.
    if (this.slot !== undefined && this.slot.state !== 'active') this.closeAfter = true
    if (this.host.closing) this.closeAfter = true
    this.upstream!.response.reset(head.bodyKind, head.contentLength)
  }

  /** Relays data[from, ...) up to the body's end; bytes from `from` to `bodyAt` are the response head. */
  private relayBody(data: Buffer, bodyAt: number, from: number): void {
    const upstream = this.upstream!
    let end: number
    try {
      end = upstream.response.scan(data, bodyAt)
    } catch (error) {
      this.badResponse(error as HeadError)
      return
    }
    const socket = this.client.socket
    const out = upstream.response.forwardable(data, from, end === -1 ? data.length : end)
    if (end === -1) {
      if (!upstream.relay(socket, out)) upstream.socket.pause()
      return
    }
    if (out.length > 0) upstream.relay(socket, out)
    // Bytes after the response's end break the upstream's framing: do not reuse it.
    this.complete(end === data.length)
  }

  private complete(clean: boolean): void {
    const upstream = this.upstream
    this.upstream = undefined
    // An upstream that answered before the whole request body arrived leaves both sides mid-message.
    if (!this.requestDone) this.closeAfter = true
    if (upstream !== undefined && this.slot !== undefined) {
      this.slot.pool.release(upstream, clean && this.requestDone && this.response!.keepAlive && this.slot.state !== 'draining')
    }
    this.finish(this.response!.status)
  }

  private finish(status: number): void {
    this.state = 'done'
    this.dismiss()
    this.slot?.end(status, this.seconds())
    this.client.exchangeDone(this.closeAfter)
  }

  /** `bytes` is the 101's head and whatever the upstream sent after it. */
  private upgrade(head: ResponseHead, bytes: Buffer): void {
    const upstream = this.upstream
    if (this.head.upgrade === undefined || upstream === undefined || this.slot === undefined) {
      this.badResponse(new HeadError(502, 'upstream switched protocols without being asked'))
      return
    }
    this.upstream = undefined
    this.response = head
    this.dismiss()
    const tunnel = new Tunnel(this.slot, this.client.socket, upstream)
    upstream.relay(this.client.socket, bytes)
    this.state = 'done'
    this.slot.end(101, this.seconds())
    this.client.becomeTunnel(tunnel)
  }

  private mayRetry(error: NodeJS.ErrnoException | undefined): boolean {
    if (!this.retryable || !this.requestDone) return false
    // Refused: the request never arrived. Reset or closed before any byte of an answer: an
    // idempotent request may run again by definition. Anything later is never retried.
    const code = error?.code
    return code === undefined || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE'
  }

  private retry(other: Slot, error: NodeJS.ErrnoException | undefined, connected: boolean): void {
    const failed = this.slot!
    failed.retried(error?.code ?? 'CLOSED', connected, this.head.method)
    // Once only: the retry is not retried.
    this.retryable = false
    failed.abandon()
    this.dismiss()
    this.forward(other)
  }

  private fail(error: NodeJS.ErrnoException | undefined, connected: boolean): void {
    const slot = this.slot!
    const code = error?.code ?? (connected ? 'closed before a complete response' : 'ERROR')
    slot.failed(code, this.head.method)
    // With part of a response already out, answer() cuts the connection: the only honest signal left.
    this.answer(502, `bad gateway: ${this.host.name} slot ${slot.name} (${slot.pool.target}) failed: ${code}`, false)
  }

  /**
   * Ends the exchange wherever it was: forgotten by the buffer (the pool's queue skips it
   * once it is done), its upstream connection cut, and its count on its slot ended.
   */
  private leave(status: number): void {
    const state = this.state
    this.state = 'done'
    this.dismiss()
    if (state === 'held' || state === 'queued' || state === 'new') this.host.abandoned(this)
    if (this.upstream !== undefined) {
      this.upstream.destroy()
      this.upstream = undefined
    }
    this.slot?.end(status, this.seconds())
    this.slot = undefined
  }

  private badResponse(error: HeadError): void {
    const upstream = this.upstream
    this.upstream = undefined
    upstream?.destroy()
    this.fail(Object.assign(new Error(error.problem), { code: 'BAD_RESPONSE' }) as NodeJS.ErrnoException, true)
  }

  private keep(chunk: Buffer): void {
    if (!this.retryable) return
    this.retained += chunk.length
    if (this.retained > MAX_RETAINED) {
      this.retryable = false
      this.chunks = []
    } else this.chunks.push(chunk)
  }

  private seconds(): number {
    return (performance.now() - this.startedAt) / 1000
  }
}
