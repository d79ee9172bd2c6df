/**
 * An upgraded connection (WebSocket or any 101 Switching Protocols): after the upstream's
 * 101, bytes flow both ways untouched until either side closes. It counts as in flight on
 * its slot, so a drain waits for it; the slot closes it when the drain timeout runs out
 * (kamal-proxy cuts these the moment a drain starts; we let them finish if they can).
 */
import type { Socket } from 'node:net'
import type { UpstreamConnection, UpstreamUser } from './upstream-connection.js'

export interface TunnelOwner {
  tunnelOpened(tunnel: Tunnel): void
  tunnelClosed(tunnel: Tunnel): void
}

export class Tunnel implements UpstreamUser {
  private open = true

  constructor(
    private readonly owner: TunnelOwner,
    private readonly client: Socket,
    private readonly upstream: UpstreamConnection,
  ) {
    upstream.user = this
    owner.tunnelOpened(this)
  }

  fromClient(chunk: Buffer): void {
    if (!this.upstream.socket.write(chunk)) this.client.pause()
  }

  onUpstreamData(chunk: Buffer): void {
    if (!this.upstream.relay(this.client, chunk)) this.upstream.socket.pause()
  }

  onUpstreamDrain(): void {
    this.client.resume()
  }

  onClientDrain(): void {
    this.upstream.socket.resume()
  }

  /** The upstream ended: the client gets what was sent, then the end. */
  onUpstreamClose(): void {
    this.client.end()
    this.closed()
  }

  clientClosed(): void {
    this.upstream.destroy()
    this.closed()
  }

  /** Cuts both sides (drain timeout, slot disabled, agent shutdown). */
  close(): void {
    this.client.destroy()
    this.upstream.destroy()
    this.closed()
  }

  private closed(): void {
    if (!this.open) return
    this.open = false
    this.owner.tunnelClosed(this)
  }
}
