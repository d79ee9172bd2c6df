/**
 * Request headers that describe the client's connection to us, not the request, and so
 * must not travel to the upstream (RFC 9110 §7.6.1). `Connection` itself stays on the
 * incoming request because http-proxy reads it to answer the client, and the upstream
 * request overrides it with keep-alive (upstream-pool.ts). Transfer-Encoding is left to Node.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

const CONNECTION_TOKENS_KEPT = new Set(['close', 'keep-alive', 'upgrade'])

export function stripHopByHop(headers: IncomingHttpHeaders): void {
  // Each check is a property read; deletes happen only for the rare client that sends them.
  if (headers['keep-alive'] !== undefined) delete headers['keep-alive']
  if (headers['proxy-connection'] !== undefined) delete headers['proxy-connection']
  if (headers.te !== undefined) delete headers.te
  if (headers.trailer !== undefined) delete headers.trailer
  // The agent does not proxy protocol upgrades (WebSocket); a stray Upgrade header is dropped.
  if (headers.upgrade !== undefined) delete headers.upgrade
  const connection = headers.connection
  if (connection !== undefined && !CONNECTION_TOKENS_KEPT.has(connection.toLowerCase())) removeListed(headers, connection)
}

/** `Connection: close, X-Foo` declares X-Foo hop-by-hop too. */
function removeListed(headers: IncomingHttpHeaders, connection: string): void {
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase()
    if (name !== '' && !CONNECTION_TOKENS_KEPT.has(name) && name !== 'connection') delete headers[name]
  }
}

/** Keeps the client's X-Request-Id so logs correlate across hops; otherwise adds one. */
export function ensureRequestId(headers: IncomingHttpHeaders): void {
  if (headers['x-request-id'] === undefined) headers['x-request-id'] = randomUUID()
}
