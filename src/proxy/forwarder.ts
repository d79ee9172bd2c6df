/**
 * Sends one request to one slot through http-proxy and accounts for it. This is the hot
 * path: per request it allocates one completion closure; everything else (proxy options,
 * error handler, metric children) is built once per slot.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import httpProxy from 'http-proxy'
import { ensureRequestId, stripHopByHop } from './hop-headers.js'
import type { Logger } from './log.js'
import type { Slot } from './slot.js'

/** Status recorded when the client connection closed before the response finished (nginx's convention). */
export const CLIENT_CLOSED = 499

export class Forwarder {
  private readonly proxy: httpProxy

  constructor(log: Logger, clientKeepAliveSeconds: number) {
    this.proxy = httpProxy.createProxyServer({
      xfwd: true,
      // Use req.url as the upstream path as is: skips a url.parse per request, and the
      // slot targets carry no path of their own.
      toProxy: true,
      prependPath: false,
    })
    // Every web() call gets its own callback; this listener is the backstop, because an
    // emitter with no 'error' listener throws and would take the whole agent down.
    this.proxy.on('error', (error) => log({ level: 'error', msg: 'proxy error without a handler', error: error.message }))
    // The upstream's Keep-Alive hint describes its connection to us, not ours to the client.
    const hint = `timeout=${clientKeepAliveSeconds}`
    this.proxy.on('proxyRes', (proxyRes) => {
      if (proxyRes.headers['keep-alive'] !== undefined) proxyRes.headers['keep-alive'] = hint
    })
  }

  forward(slot: Slot, req: IncomingMessage, res: ServerResponse): void {
    stripHopByHop(req.headers)
    ensureRequestId(req.headers)
    slot.begin()
    const started = performance.now()
    let open = true
    // 'finish' is the normal end; 'close' also covers a client or upstream that went away
    // mid-response. Whichever comes first settles the count, exactly once.
    const settle = (): void => {
      if (!open) return
      open = false
      slot.end(res.writableFinished ? res.statusCode : CLIENT_CLOSED, (performance.now() - started) / 1000)
    }
    res.on('finish', settle)
    res.on('close', settle)
    try {
      this.proxy.web(req, res, slot.upstream.proxyOptions, slot.onUpstreamError)
    } catch (error) {
      slot.onUpstreamError(error instanceof Error ? error : new Error(String(error)), req, res)
    }
  }

  close(): void {
    this.proxy.close()
  }
}
