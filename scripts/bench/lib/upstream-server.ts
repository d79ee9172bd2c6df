/**
 * The upstream every bench target proxies to: a plain node:http server answering every
 * request with a fixed 100-byte body, keep-alive 65 s (the demo's). Run as its own process
 * so it never shares an event loop with the proxy under test; prints its port on stdout.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

const BODY = Buffer.alloc(100, 'x')
const HEADERS = { 'content-type': 'text/plain', 'content-length': String(BODY.length) }

const server = http.createServer((req, res) => {
  // Bodies are drained so POST benches measure the proxy, not a stalled upstream.
  req.resume()
  req.on('end', () => res.writeHead(200, HEADERS).end(BODY))
})
server.keepAliveTimeout = 65_000
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`))
process.on('SIGTERM', () => process.exit(0))
