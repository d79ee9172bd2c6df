/**
 * Child processes a bench starts and must stop: each is tracked by the PID it was given and
 * stopped by that PID only (SIGTERM, then SIGKILL after a bound), never by name.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'

export interface Started {
  readonly pid: number
  readonly child: ChildProcess
  stop(): Promise<void>
}

const started = new Set<Started>()

export function start(command: string, args: readonly string[], options: SpawnOptions = {}): Started {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
  if (child.pid === undefined) throw new Error(`could not start ${command}`)
  const exited = once(child, 'exit').then(() => undefined)
  const entry: Started = {
    pid: child.pid,
    child,
    stop: async () => {
      started.delete(entry)
      if (child.exitCode !== null || child.signalCode !== null) return
      process.kill(child.pid!, 'SIGTERM')
      const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid!, 'SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
  }
  started.add(entry)
  return entry
}

/** Stops everything this process started (on exit or failure), each by its own PID. */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((entry) => entry.stop()))
}

/** Reads the first line a child prints on stdout (its port), bounded in time. */
export async function firstLine(entry: Started, timeoutMs = 15_000): Promise<string> {
  const stdout = entry.child.stdout
  if (stdout === null) throw new Error('child has no stdout pipe')
  let text = ''
  const deadline = Date.now() + timeoutMs
  for await (const chunk of stdout) {
    text += String(chunk)
    const end = text.indexOf('\n')
    if (end >= 0) return text.slice(0, end).trim()
    if (Date.now() > deadline) break
  }
  throw new Error(`child ${entry.pid} printed no line within ${timeoutMs} ms`)
}

/** Waits until something accepts TCP connections on the port, bounded in time. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await accepts(port)) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`)
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}
