/**
 * The floor for any proxy written on Node's public socket API: each client connection is
 * paired with one upstream connection and bytes are copied both ways, with no parsing, no
 * header rewriting, no pooling and no metrics. It does the same socket work per request as
 * the agent (one read and one write on each side) and nothing else, so the gap between it
 * and the agent is what our own code costs, and the gap between it and nginx is Node's.
 * Not a proxy anyone should run: it cannot route, buffer or drain.
 *
 *   node --import tsx node-relay.ts UPSTREAM_PORT   (prints its own port on stdout)
 */
import net, { type AddressInfo, type Socket } from 'node:net'

const upstreamPort = Number(process.argv[2])
if (!Number.isInteger(upstreamPort) || upstreamPort <= 0) throw new Error('usage: node-relay.ts UPSTREAM_PORT')

function relay(client: Socket): void {
  const upstream = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true })
  client.setNoDelay(true)
  client.on('data', (chunk: Buffer) => upstream.write(chunk))
  upstream.on('data', (chunk: Buffer) => client.write(chunk))
  client.on('close', () => upstream.destroy())
  upstream.on('close', () => client.destroy())
  client.on('error', () => undefined)
  upstream.on('error', () => undefined)
}

const server = net.createServer(relay)
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`))
process.on('SIGTERM', () => process.exit(0))
