/**
 * Child processes a bench starts and must stop: each is tracked by the PID it was given and
 * stopped by that PID only (SIGTERM, then SIGKILL after a bound), never by name.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { createInterface } from 'node:readline'
import { waitUntil } from '../../lib/wait-until.js'

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

/**
 * The lines a child prints on stdout, read one at a time; each read fails after its
 * `timeoutMs`, so a child that goes silent ends the bench instead of hanging it.
 */
export function stdoutLines(entry: Started): (timeoutMs: number) => Promise<string> {
  const stdout = entry.child.stdout
  if (stdout === null) throw new Error(`child ${entry.pid} has no stdout pipe`)
  const lines = createInterface({ input: stdout })[Symbol.asyncIterator]()
  return async (timeoutMs) => {
    let timer: NodeJS.Timeout | undefined
    const silence = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`child ${entry.pid} printed no line within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      const line = await Promise.race([lines.next(), silence])
      if (line.done === true) throw new Error(`child ${entry.pid} closed its stdout without printing a line`)
      return line.value
    } finally {
      clearTimeout(timer)
    }
  }
}

/** Reads the first line a child prints on stdout (its port), bounded in time. */
export async function firstLine(entry: Started, timeoutMs = 15_000): Promise<string> {
  return (await stdoutLines(entry)(timeoutMs)).trim()
}

/** Waits until something accepts TCP connections on the port, bounded in time. */
export function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  return waitUntil(() => accepts(port), timeoutMs, `something to listen on 127.0.0.1:${port}`)
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
