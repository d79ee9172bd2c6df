/**
 * The buffer under a flip: the agent's RSS with 10,000 requests held (GETs: no bodies), and
 * the time from the release call until the last of them is answered. Also the RSS of 10,000
 * idle keep-alive connections, so the cost of holding a request can be told apart from the
 * cost of the client connection it arrived on.
 *
 *   npx tsx scripts/bench/buffer-hold.ts [--requests 10000] [--no-build]
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { AdminClient } from '../../src/proxy/admin-client.js'
import { firstLine, freePort, start, stopAll } from './lib/processes.js'

const { values } = parseArgs({ options: { requests: { type: 'string', default: '10000' }, 'no-build': { type: 'boolean', default: false } } })
const COUNT = Number(values.requests)
const BATCH = 500
const HANDOVER_BIN = fileURLToPath(new URL('../../bin/handover.js', import.meta.url))

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (match === null) throw new Error(`no VmRSS for ${pid}`)
  return Number(match[1])
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** Opens `count` connections in batches (the listen backlog is finite) and waits for each to connect. */
async function connectAll(port: number, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = []
  for (let at = 0; at < count; at += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - at) }, () => net.connect(port, '127.0.0.1'))
    await Promise.all(batch.map((socket) => new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))))
    sockets.push(...batch)
  }
  return sockets
}

/** Resolves when every socket has received one whole response (the upstream's 100-byte body). */
function answered(sockets: net.Socket[]): Promise<void> {
  let left = sockets.length
  return new Promise((resolve, reject) => {
    for (const socket of sockets) {
      let text = ''
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1')
        const end = text.indexOf('\r\n\r\n')
        if (end < 0 || text.length < end + 4 + 100) return
        if (!text.startsWith('HTTP/1.1 200')) reject(new Error(`unexpected answer: ${text.slice(0, 80)}`))
        socket.removeAllListeners('data')
        if (--left === 0) resolve()
      })
    }
  })
}

async function main(): Promise<void> {
  if (!values['no-build']) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' })
  const dir = mkdtempSync(join(tmpdir(), 'hov-hold-'))
  try {
    const upstream = start(process.execPath, ['--import', 'tsx', new URL('./lib/upstream-server.ts', import.meta.url).pathname])
    const upstreamPort = Number(await firstLine(upstream))
    const socket = join(dir, 'agent.sock')
    const agent = start(process.execPath, [HANDOVER_BIN, 'agent', '--socket', socket, '--state-file', join(dir, 'routes.json'), '--metrics', `127.0.0.1:${await freePort()}`], { stdio: 'ignore' })
    const client = new AdminClient(socket, 30)
    await until(() => client.health().then(() => true, () => false), 'the agent', 15_000)
    const slot = { host: '127.0.0.1', port: upstreamPort }
    const route = await client.putService({
      name: 'hold',
      listen: { host: '127.0.0.1', port: 0 },
      slots: { blue: { ...slot, state: 'active' }, green: { ...slot, state: 'disabled' } },
      buffer: { maxRequests: COUNT, maxWaitSeconds: 120 },
    })
    const port = route.listen.port
    const base = rssKiB(agent.pid)

    const idle = await connectAll(port, COUNT)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const withIdle = rssKiB(agent.pid)
    for (const s of idle) s.destroy()

    await client.flip('hold', 'green')
    const sockets = await connectAll(port, COUNT)
    const done = answered(sockets)
    for (const s of sockets) s.write('GET / HTTP/1.1\r\nhost: bench\r\n\r\n')
    await until(async () => (await client.getService('hold')).buffered === COUNT, `${COUNT} requests to be held`, 60_000)
    const held = rssKiB(agent.pid)

    const started = performance.now()
    const { released } = await client.release('hold', 'green')
    await done
    const releaseMs = performance.now() - started
    for (const s of sockets) s.destroy()

    const perConnection = ((withIdle - base) * 1024) / COUNT
    const perHeld = ((held - base) * 1024) / COUNT
    console.log(`agent RSS: ${(base / 1024).toFixed(1)} MiB at rest, ${(withIdle / 1024).toFixed(1)} MiB with ${COUNT} idle connections, ${(held / 1024).toFixed(1)} MiB with ${COUNT} held requests`)
    console.log(`per held request: ${(perHeld / 1024).toFixed(2)} KiB including its client connection; ${((perHeld - perConnection) / 1024).toFixed(2)} KiB beyond an idle connection`)
    console.log(`released ${released}; last answered ${releaseMs.toFixed(0)} ms after the release call`)
  } finally {
    await stopAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch(async (error: unknown) => {
  await stopAll()
  console.error(error)
  process.exitCode = 1
})
