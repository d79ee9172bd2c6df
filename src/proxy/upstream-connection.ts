/**
 * One TCP connection from the proxy to a slot's container. Its socket handlers are bound
 * once per connection and hand every event to whichever exchange currently uses it, so a
 * request reusing a pooled connection allocates no listener. The response's framing state
 * lives here too: it belongs to the byte stream, not to the request.
 */
import net, { type Socket } from 'node:net'
import { BodyFraming } from './body-framing.js'

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

export class UpstreamConnection {
  readonly socket: Socket
  readonly response = new BodyFraming(502)
  user: UpstreamUser | undefined
  connected = false
  /** performance.now() when it went idle; the pool closes it after the idle timeout. */
  idleSince = 0
  private error: NodeJS.ErrnoException | undefined

  constructor(
    host: string,
    port: number,
    readonly generation: number,
    owner: ConnectionOwner,
  ) {
    this.socket = net.connect({ host, port, noDelay: true })
    this.socket.on('connect', () => {
      this.connected = true
      owner.connected()
    })
    this.socket.on('data', (chunk: Buffer) => {
      if (this.user !== undefined) this.user.onUpstreamData(chunk)
      // Bytes on an idle connection break HTTP framing: it cannot be trusted again.
      else this.socket.destroy()
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

  get usable(): boolean {
    return !this.socket.destroyed && this.socket.writable
  }

  destroy(): void {
    this.user = undefined
    this.socket.destroy()
  }
}
