/**
 * One TCP connection from the proxy to a slot's container. Its socket handlers are bound
 * once per connection and hand every event to whichever exchange currently uses it, so a
 * request reusing a pooled connection allocates no listener. The response's framing state
 * lives here too: it belongs to the byte stream, not to the request.
 *
 * Reads go into a buffer the connection owns (net's `onread`), which skips the readable
 * stream machinery and a buffer allocation per read. The bytes handed to the user are a view
 * of that buffer, valid only during the call; users pass them on with `relay()`, which knows
 * when a write outlives the call, and the next read then goes into a fresh buffer.
 */
import net, { type Socket } from 'node:net'
import { BodyFraming } from '../http/body-framing.js'

/** What an exchange must handle while it holds a connection. */
export interface UpstreamUser {
  onUpstreamData(chunk: Buffer): void
  /** The connection closed (or failed to open) while this user held it. */
  onUpstreamClose(error: NodeJS.ErrnoException | undefined, connected: boolean): void
  onUpstreamDrain(): void
}

export interface ConnectionOwner {
  /** The connection closed; the owner forgets it. */
  closed(connection: UpstreamConnection): void
  /** The connection reached its target (feeds passive health checks). */
  connected(): void
  connectFailed(error: NodeJS.ErrnoException): void
}

const READ_BUFFER_BYTES = 16 * 1024

export class UpstreamConnection {
  readonly socket: Socket
  readonly response = new BodyFraming(502)
  user: UpstreamUser | undefined
  connected = false
  /** performance.now() when it went idle; the pool closes it after the idle timeout. */
  idleSince = 0
  private error: NodeJS.ErrnoException | undefined
  private readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES)
  private fresh = false

  constructor(
    host: string,
    port: number,
    readonly generation: number,
    owner: ConnectionOwner,
  ) {
    this.socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: { buffer: () => this.nextBuffer(), callback: (length: number, buffer: Uint8Array) => this.onRead(length, buffer as Buffer) },
    })
    this.socket.on('connect', () => {
      this.connected = true
      owner.connected()
    })
    this.socket.on('drain', () => this.user?.onUpstreamDrain())
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error = error
      if (!this.connected) owner.connectFailed(error)
    })
    this.socket.on('close', () => {
      const user = this.user
      this.user = undefined
      owner.closed(this)
      user?.onUpstreamClose(this.error, this.connected)
    })
  }

  /**
   * Writes bytes that came from this connection (all or part of a read) to `to`; returns
   * what `to.write` returned. A write left pending still references the read buffer, so the
   * next read must not overwrite it.
   */
  relay(to: Socket, bytes: Buffer): boolean {
    const flushed = to.write(bytes)
    if (to.writableLength > 0) this.fresh = true
    return flushed
  }

  get usable(): boolean {
    return !this.socket.destroyed && this.socket.writable
  }

  destroy(): void {
    this.user = undefined
    this.socket.destroy()
  }

  private onRead(length: number, buffer: Buffer): boolean {
    if (this.user !== undefined) this.user.onUpstreamData(buffer.subarray(0, length))
    // Bytes on an idle connection break HTTP framing: it cannot be trusted again.
    else this.socket.destroy()
    return true
  }

  private nextBuffer(): Buffer {
    if (this.fresh) {
      this.fresh = false
      this.readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES)
    }
    return this.readBuffer
  }
}
