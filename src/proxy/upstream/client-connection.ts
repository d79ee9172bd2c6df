/**
 * One client TCP connection to a service's listener: reads request heads, hands each
 * request to the service as an Exchange, and feeds it the request's body bytes. One request
 * at a time: bytes of a pipelined next request wait (and the socket pauses) until the
 * current response is written, so the requests of one connection are never reordered.
 */
import type { Socket } from 'node:net'
import { BodyFraming } from '../http/body-framing.js'
import { HeadError } from '../errors.js'
import { Exchange, type ClientSide, type ExchangeHost } from './exchange.js'
import { parseRequestHead, type RequestHead } from '../http/http-head.js'
import { answerText } from '../http/responses.js'
import type { Tunnel } from './tunnel.js'
import { forwardedLines } from '../http/upstream-head.js'

const CRLFCRLF = Buffer.from('\r\n\r\n')
export const MAX_REQUEST_HEAD = 64 * 1024

export interface ConnectionHost extends ExchangeHost {
  /** Holds, forwards or refuses a new request. */
  accept(exchange: Exchange): void
  connectionClosed(connection: ClientConnection): void
  /** The client at `address` is a trusted forwarder (forwarder-trust.ts). */
  trusts(address: string): boolean
}

const enum Mode {
  Head,
  Body,
  /** The request is read whole; its response is not written yet. */
  Wait,
  Tunnel,
  Closed,
}

export class ClientConnection implements ClientSide {
  private pending: Buffer | undefined
  private readonly framing = new BodyFraming(400)
  private exchange: Exchange | undefined
  private tunnel: Tunnel | undefined
  private mode = Mode.Head
  private consuming = false
  readonly address: string
  /** Decided at connect: a route change applies to the connections made after it. */
  readonly trusted: boolean
  /** performance.now() of the last finished exchange (or the connect); for the idle sweep. */
  lastActive = performance.now()
  /** When the first byte of a not yet complete head arrived; 0 when none is pending. */
  private headStarted = 0
  /** While a body is read: when its last bytes arrived, or reading it last resumed. */
  private bodyAt = 0
  private forwardedBytes: Buffer | undefined

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.address = socket.remoteAddress ?? 'unknown'
    this.trusted = host.trusts(this.address)
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('drain', () => (this.tunnel ?? this.exchange)?.onClientDrain())
    // 'close' follows every error; the exchange learns of it there.
    socket.on('error', () => undefined)
    socket.on('close', () => this.onClose())
  }

  /** This connection's X-Forwarded-* lines; built for its first forwarded request, not while one is held. */
  get forwarded(): Buffer {
    return (this.forwardedBytes ??= forwardedLines(this.address))
  }

  get busy(): boolean {
    return this.exchange !== undefined || this.tunnel !== undefined
  }

  pause(): void {
    this.socket.pause()
  }

  resume(): void {
    if (this.mode === Mode.Tunnel) this.socket.resume()
    else if (this.mode === Mode.Body) {
      // A pause was ours: the body's idle time starts again from here.
      this.bodyAt = performance.now()
      this.socket.resume()
    }
  }

  exchangeDone(close: boolean): void {
    this.exchange = undefined
    this.lastActive = performance.now()
    if (close || this.mode === Mode.Body || this.mode === Mode.Closed) {
      this.mode = Mode.Closed
      this.socket.end()
      return
    }
    this.mode = Mode.Head
    if (this.consuming) return
    const pending = this.pending
    this.pending = undefined
    this.socket.resume()
    if (pending !== undefined) this.consume(pending)
  }

  becomeTunnel(tunnel: Tunnel): void {
    this.exchange = undefined
    this.tunnel = tunnel
    this.mode = Mode.Tunnel
    const pending = this.pending
    this.pending = undefined
    if (pending !== undefined && pending.length > 0) tunnel.fromClient(pending)
    this.socket.resume()
  }

  /**
   * Closes the connection if it idled past `keepAliveMs`, has sent half a head for
   * `headTimeoutMs`, has sent nothing of a body it owes for `bodyTimeoutMs` (while we were
   * reading it, not while we paused it), or lingers after we ended it.
   */
  sweep(now: number, keepAliveMs: number, headTimeoutMs: number, bodyTimeoutMs: number): void {
    // Ended by us (answered mid-body, or shutting down) but the client keeps it open: cut it.
    if (this.mode === Mode.Closed && !this.busy && now - this.lastActive > headTimeoutMs) this.socket.destroy()
    if (this.mode === Mode.Body && !this.socket.isPaused() && now - this.bodyAt > bodyTimeoutMs) {
      this.exchange?.answer(408, 'request timeout: the request body stopped arriving', false, true)
      return
    }
    if (this.busy || this.mode !== Mode.Head) return
    if (this.headStarted !== 0 && now - this.headStarted > headTimeoutMs) this.refuse(408, 'request head not received in time')
    else if (this.headStarted === 0 && now - this.lastActive > keepAliveMs) this.socket.destroy()
  }

  /** Shutdown: an idle connection closes now; a busy one after its response (the exchange sees host.closing). */
  closeIfIdle(): void {
    if (!this.busy) this.socket.destroy()
  }

  destroy(): void {
    this.socket.destroy()
  }

  private onData(chunk: Buffer): void {
    if (this.mode === Mode.Tunnel) {
      this.tunnel!.fromClient(chunk)
      return
    }
    if (this.mode === Mode.Closed) return
    const pending = this.pending
    this.pending = undefined
    this.consume(pending === undefined ? chunk : Buffer.concat([pending, chunk]))
  }

  private consume(data: Buffer): void {
    this.consuming = true
    try {
      let at = 0
      while (at < data.length) {
        if (this.mode === Mode.Body) at = this.readBody(data, at)
        else if (this.mode === Mode.Head) at = this.readHead(data, at)
        else if (this.mode === Mode.Tunnel) {
          this.tunnel!.fromClient(data.subarray(at))
          break
        } else {
          if (this.mode === Mode.Wait) {
            // A pipelined request: it waits until the current response is written.
            this.pending = data.subarray(at)
            this.socket.pause()
          }
          break
        }
      }
    } finally {
      this.consuming = false
    }
    // The exchange may have finished while we were consuming: pick up what waits.
    if (this.mode === Mode.Head && this.pending !== undefined && this.headStarted === 0) {
      const pending = this.pending
      this.pending = undefined
      this.socket.resume()
      this.consume(pending)
    }
  }

  /** Returns the index after what was consumed; data.length when all of it was. */
  private readHead(data: Buffer, at: number): number {
    // Empty lines before a request line are allowed (RFC 9112 §2.2).
    while (at + 1 < data.length && data[at] === 0x0d && data[at + 1] === 0x0a) at += 2
    const end = data.indexOf(CRLFCRLF, at)
    if (end === -1 || end - at > MAX_REQUEST_HEAD) {
      if (data.length - at > MAX_REQUEST_HEAD) this.refuse(431, 'request head too large')
      else {
        this.pending = at === 0 ? data : data.subarray(at)
        if (this.headStarted === 0) this.headStarted = performance.now()
      }
      return data.length
    }
    this.headStarted = 0
    let head: RequestHead
    try {
      head = parseRequestHead(data, at, end, this.trusted)
    } catch (error) {
      if (!(error instanceof HeadError)) throw error
      this.refuse(error.status, error.problem)
      return data.length
    }
    this.start(head)
    return end + 4
  }

  private readBody(data: Buffer, at: number): number {
    const exchange = this.exchange!
    this.bodyAt = performance.now()
    let end: number
    try {
      end = this.framing.scan(data, at)
    } catch (error) {
      if (!(error instanceof HeadError)) throw error
      exchange.answer(400, `bad request: ${error.problem}`, false, true)
      return data.length
    }
    const body = this.framing.forwardable(data, at, end === -1 ? data.length : end)
    if (body.length > 0) exchange.body(body)
    if (end === -1) return data.length
    this.mode = Mode.Wait
    exchange.bodyEnd()
    return end
  }

  private start(head: RequestHead): void {
    const exchange = new Exchange(this, head, this.host)
    this.exchange = exchange
    this.framing.reset(head.bodyKind, head.contentLength)
    if (head.bodyKind === 'none') {
      this.mode = Mode.Wait
      exchange.bodyEnd()
    } else {
      this.mode = Mode.Body
      this.bodyAt = performance.now()
    }
    this.host.accept(exchange)
  }

  /** A request the proxy cannot read: answered, and the connection closed (its framing is lost). */
  private refuse(status: number, problem: string): void {
    this.mode = Mode.Closed
    this.pending = undefined
    if (this.socket.writable) this.socket.end(answerText(status, `${status === 408 ? 'request timeout' : 'bad request'}: ${problem}`, { retry: false, close: true }), 'latin1')
  }

  private onClose(): void {
    this.mode = Mode.Closed
    this.pending = undefined
    const exchange = this.exchange
    this.exchange = undefined
    exchange?.clientGone()
    this.tunnel?.clientClosed()
    this.host.connectionClosed(this)
  }
}
