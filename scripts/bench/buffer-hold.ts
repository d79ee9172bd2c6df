/**
 * The buffer under a flip: the agent's memory with 10,000 requests held (GETs: no bodies),
 * and the time from the release call until the last of them is answered. Also the memory of
 * 10,000 idle keep-alive connections, so the cost of holding a request can be told apart
 * from the cost of the client connection it arrived on. The agent runs in its own process
 * (lib/agent-process.ts) and collects garbage before each measurement, so RSS and heap count
 * what is live, not what a collection would free. Before any of it, 3 s of traffic warm the
 * agent up, as on a live service.
 *
 *   npx tsx scripts/bench/buffer-hold.ts [--requests 10000]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { AdminClient } from '../../src/proxy/admin-client.js'
import { freePort } from '../lib/free-port.js'
import { waitUntil } from '../lib/wait-until.js'
import { firstLine, start, stdoutLines, stopAll, type Started } from './lib/processes.js'
import { wrk } from './lib/wrk.js'

const { values } = parseArgs({ options: { requests: { type: 'string', default: '10000' } } })
const COUNT = Number(values.requests)
const BATCH = 500

interface Memory {
  rss: number
  heapUsed: number
}

/**
 * Waits for the agent process's "ready" (its admin socket listens), then returns a function
 * that asks it to collect garbage and report its memory: one JSON line per request.
 */
async function measurer(agent: Started): Promise<() => Promise<Memory>> {
  const nextLine = stdoutLines(agent)
  const ready = await nextLine(15_000)
  if (ready !== 'ready') throw new Error(`the agent process printed ${JSON.stringify(ready)} instead of "ready"`)
  return async () => {
    agent.child.stdin!.write('measure\n')
    // Generous: two collections take far less; the bound is there so a hung agent ends the bench.
    return JSON.parse(await nextLine(60_000)) as Memory
  }
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

const OK = Buffer.from('HTTP/1.1 200 ')
const HEAD_END = Buffer.from('\r\n\r\n')
const BODY_BYTES = 100

/**
 * Resolves when every socket has received one whole response (the upstream's 100-byte
 * body). Kept lean, bytes counted without making strings: this process shares the machine
 * with the agent and the upstream, and its own cost would otherwise count as theirs.
 */
function answered(sockets: net.Socket[]): Promise<void> {
  let left = sockets.length
  return new Promise((resolve, reject) => {
    for (const socket of sockets) {
      let head: Buffer = Buffer.alloc(0)
      let expected = -1
      let received = 0
      const onData = (chunk: Buffer): void => {
        received += chunk.length
        if (expected === -1) {
          head = head.length === 0 ? chunk : Buffer.concat([head, chunk])
          const end = head.indexOf(HEAD_END)
          if (end === -1) return
          if (head.compare(OK, 0, OK.length, 0, OK.length) !== 0) reject(new Error(`unexpected answer: ${head.toString('latin1', 0, 80)}`))
          expected = end + HEAD_END.length + BODY_BYTES
        }
        if (received < expected) return
        socket.off('data', onData)
        if (--left === 0) resolve()
      }
      socket.on('data', onData)
    }
  })
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hov-hold-'))
  try {
    const upstream = start(process.execPath, ['--import', 'tsx', new URL('./lib/upstream-server.ts', import.meta.url).pathname])
    const upstreamPort = Number(await firstLine(upstream))
    const socket = join(dir, 'agent.sock')
    const script = new URL('./lib/agent-process.ts', import.meta.url).pathname
    const agent = start(process.execPath, ['--expose-gc', '--import', 'tsx', script, socket, join(dir, 'routes.json'), String(await freePort())], { stdio: ['pipe', 'pipe', 'inherit'] })
    const measure = await measurer(agent)
    const client = new AdminClient(socket, 30)
    const slot = { host: '127.0.0.1', port: upstreamPort }
    const route = await client.putService({
      name: 'hold',
      listen: { host: '127.0.0.1', port: 0 },
      slots: { blue: { ...slot, state: 'active' }, green: { ...slot, state: 'disabled' } },
      buffer: { maxRequests: COUNT, maxWaitSeconds: 120 },
    })
    const port = route.listen.port
    // A flip happens on a live service: the agent's forwarding code is warm (compiled) by then.
    await wrk(`http://127.0.0.1:${port}/`, { threads: 1, connections: 50, seconds: 3 })
    const base = await measure()

    const idle = await connectAll(port, COUNT)
    await waitUntil(async () => (await client.getService('hold')).buffered === 0, 1000, 'the agent to settle')
    const withIdle = await measure()
    for (const s of idle) s.destroy()

    await client.flip('hold', 'green')
    const sockets = await connectAll(port, COUNT)
    const done = answered(sockets)
    for (const s of sockets) s.write('GET / HTTP/1.1\r\nhost: bench\r\n\r\n')
    await waitUntil(async () => (await client.getService('hold')).buffered === COUNT, 60_000, `${COUNT} requests to be held`)
    const held = await measure()

    const started = performance.now()
    const { released } = await client.release('hold', 'green')
    await done
    const releaseMs = performance.now() - started
    for (const s of sockets) s.destroy()

    const mib = (bytes: number) => (bytes / 1048576).toFixed(1)
    const kib = (bytes: number) => (bytes / 1024 / COUNT).toFixed(2)
    console.log(`agent after GC: RSS ${mib(base.rss)} MiB at rest, ${mib(withIdle.rss)} MiB with ${COUNT} idle connections, ${mib(held.rss)} MiB with ${COUNT} held requests`)
    console.log(`per held request: RSS ${kib(held.rss - base.rss)} KiB including its client connection, ${kib(held.rss - withIdle.rss)} KiB beyond an idle connection; JS heap ${kib(held.heapUsed - withIdle.heapUsed)} KiB beyond an idle connection`)
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
