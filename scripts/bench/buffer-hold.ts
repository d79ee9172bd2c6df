/**
 * The buffer under a flip: the agent's memory with 10,000 requests held (GETs: no bodies),
 * and the time from the release call until the last of them is answered.
 *
 * Memory: 10,000 keep-alive clients are connected when the flip starts; then half of them
 * send a request, then the other half. The second half's growth, divided by its count, is
 * what one more held request costs, apart from its connection and from the fixed cost of
 * the upstream connections the agent warms while it holds. The agent runs in its own
 * process (lib/agent-process.ts) and collects garbage before each measurement, so RSS and
 * heap count what is live, not what a collection would free. Before any of it, 3 s of
 * traffic warm the agent up, as on a live service.
 *
 * The slot behind the agent is nginx answering at once by default, so the release time is
 * the agent's; `--upstream node` puts the throughput bench's Node server there instead.
 *
 *   npx tsx scripts/bench/buffer-hold.ts [--requests 10000] [--upstream nginx|node]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { freePort } from '../lib/free-port.js'
import { waitUntil } from '../lib/wait-until.js'
import { firstLine, start, stdoutLines, stopAll, type Started } from './lib/processes.js'
import { cpuSeconds, startFixedAnswerNginx } from './lib/targets.js'
import { wrk } from './lib/wrk.js'

const { values } = parseArgs({ options: { requests: { type: 'string', default: '10000' }, upstream: { type: 'string', default: 'nginx' } } })
const COUNT = Number(values.requests)
if (values.upstream !== 'nginx' && values.upstream !== 'node') throw new Error(`--upstream: expected nginx or node, got ${values.upstream}`)
const UPSTREAM: UpstreamKind = values.upstream
const BATCH = 500

type UpstreamKind = 'nginx' | 'node'

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

// Far beyond any release seen here: the bound is there so a lost answer ends the bench.
const ANSWERS_TIMEOUT_MS = 60_000

/**
 * Resolves when every socket has received one whole response (the upstream's 100-byte
 * body); fails if a socket closes first, or after ANSWERS_TIMEOUT_MS from the call. Kept
 * lean, bytes counted without making strings: this process shares the machine with the
 * agent and the upstream, and its own cost would otherwise count as theirs.
 */
function answered(sockets: net.Socket[]): Promise<void> {
  let left = sockets.length
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${left} of ${sockets.length} requests unanswered after ${ANSWERS_TIMEOUT_MS} ms`)), ANSWERS_TIMEOUT_MS)
    timer.unref()
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
        socket.off('close', onClose)
        if (--left > 0) return
        clearTimeout(timer)
        resolve()
      }
      const onClose = (): void => reject(new Error('a connection closed before its answer'))
      socket.on('data', onData)
      socket.on('close', onClose)
    }
  })
}

/** The slot's container: nginx answering at once (the figure is the agent's), or the Node upstream of the throughput bench. */
async function startUpstream(kind: UpstreamKind, dir: string): Promise<number> {
  if (kind === 'nginx') return (await startFixedAnswerNginx(dir)).port
  const upstream = start(process.execPath, ['--import', 'tsx', new URL('./lib/upstream-server.ts', import.meta.url).pathname])
  return Number(await firstLine(upstream))
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hov-hold-'))
  try {
    const upstreamPort = await startUpstream(UPSTREAM, dir)
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

    // Keep-alive clients are connected when the flip starts; their next requests are held.
    const sockets = await connectAll(port, COUNT)
    const idle = await measure()
    await client.flip('hold', 'green')
    const done = answered(sockets)
    const half = Math.floor(COUNT / 2)
    const held = async (from: number, to: number): Promise<Memory> => {
      for (const s of sockets.slice(from, to)) s.write('GET / HTTP/1.1\r\nhost: bench\r\n\r\n')
      await waitUntil(async () => (await client.getService('hold')).buffered === to, 60_000, `${to} requests to be held`)
      return measure()
    }
    const halfHeld = await held(0, half)
    const allHeld = await held(half, COUNT)

    const started = performance.now()
    const cpuBefore = cpuSeconds([agent.pid])
    const mainBefore = cpuSeconds([agent.pid], 'main')
    const { released } = await client.release('hold', 'green')
    await done
    const releaseMs = performance.now() - started
    const agentCpuUs = ((cpuSeconds([agent.pid]) - cpuBefore) * 1e6) / COUNT
    const mainThreadCpuUs = ((cpuSeconds([agent.pid], 'main') - mainBefore) * 1e6) / COUNT
    for (const s of sockets) s.destroy()

    const mib = (bytes: number) => (bytes / 1048576).toFixed(1)
    const kib = (bytes: number, count: number) => (bytes / 1024 / count).toFixed(2)
    const marginal = COUNT - half
    console.log(`upstream: ${UPSTREAM}; agent after GC: RSS ${mib(base.rss)} MiB at rest, ${mib(idle.rss)} MiB with ${COUNT} idle connections, ${mib(halfHeld.rss)} MiB with ${half} of them holding a request, ${mib(allHeld.rss)} MiB with all ${COUNT}`)
    console.log(`per held request, the last ${marginal}: RSS ${kib(allHeld.rss - halfHeld.rss, marginal)} KiB, JS heap ${kib(allHeld.heapUsed - halfHeld.heapUsed, marginal)} KiB`)
    console.log(`per held request, all ${COUNT} (with the fixed cost of the warm upstream connections): RSS ${kib(allHeld.rss - idle.rss, COUNT)} KiB, JS heap ${kib(allHeld.heapUsed - idle.heapUsed, COUNT)} KiB`)
    console.log(`per idle client connection: RSS ${kib(idle.rss - base.rss, COUNT)} KiB`)
    console.log(`released ${released}; last answered ${releaseMs.toFixed(0)} ms after the release call; the agent's CPU per released request ${agentCpuUs.toFixed(0)} µs, ${mainThreadCpuUs.toFixed(0)} µs of it on its event loop's thread`)
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
