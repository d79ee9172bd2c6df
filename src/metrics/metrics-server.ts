/**
 * Serves one agent's registry at GET /metrics on its own listener, apart from the proxied
 * ports and the admin socket, so Prometheus can scrape without reaching either.
 */
import http from 'node:http'
import type { Registry } from 'prom-client'
import { bind, closeNow } from '../proxy/upstream/listener.js'

export interface MetricsServer {
  /** The bound port (the actual one when 0 was asked for). */
  readonly port: number
  close(): Promise<void>
}

export async function startMetricsServer(registry: Registry, host: string, port: number): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && !req.url?.startsWith('/metrics?'))) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: scrape GET /metrics\n')
      return
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${String(error)}\n`),
    )
  })
  const bound = await bind(server, host, port)
  return {
    port: bound,
    close: () => closeNow(server),
  }
}
