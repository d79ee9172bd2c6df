/**
 * Runs the real `handover` CLI (bin/handover.js over dist/) as child processes, the way an
 * SRE would: the agent as a long-running process, commands as one-shot runs.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { openSync } from 'node:fs'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { waitUntil } from './wait-until.js'

export const HANDOVER_BIN = fileURLToPath(new URL('../../bin/handover.js', import.meta.url))

export interface AgentProcess {
  pid: number
  metricsUrl: string
  /** SIGTERM to this process only, then waits for it to exit. */
  stop(): Promise<number | null>
  /** Resolves with the exit code once the process is gone (null after a signal). */
  exited: Promise<number | null>
}

export interface AgentOptions {
  socket: string
  stateFile: string
  metricsPort: number
  /** Where the agent's JSON log lines go (default: dropped). */
  onLog?: (line: string) => void
  /** Outlive this process: log to this file and detach (the demo leaves its agent running). */
  detachedLogFile?: string
}

/** The node arguments that run `handover agent` on this socket, state file and metrics port. */
export function agentArgs(options: Pick<AgentOptions, 'socket' | 'stateFile' | 'metricsPort'>): string[] {
  return [HANDOVER_BIN, 'agent', '--socket', options.socket, '--state-file', options.stateFile, '--metrics', `127.0.0.1:${options.metricsPort}`]
}

export async function startAgentProcess(options: AgentOptions): Promise<AgentProcess> {
  const args = agentArgs(options)
  let child: ChildProcess
  if (options.detachedLogFile) {
    const log = openSync(options.detachedLogFile, 'a')
    child = spawn(process.execPath, args, { stdio: ['ignore', log, log], detached: true })
    child.unref()
  } else {
    child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    forwardLines(child, options.onLog ?? (() => {}))
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  await waitForAgent(options.socket, exited)
  return {
    pid: child.pid!,
    metricsUrl: `http://127.0.0.1:${options.metricsPort}/metrics`,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}

/** Waits (bounded) until the agent's admin socket answers, or fails when the agent exits first. */
export async function waitForAgent(socket: string, exited: Promise<unknown>): Promise<void> {
  let gone = false
  void exited.then(() => (gone = true))
  const answered = async (): Promise<boolean> => {
    if (gone) throw new Error(`handover agent exited before its socket ${socket} answered`)
    return answers(socket)
  }
  await waitUntil(answered, 15_000, `the handover agent socket ${socket} to answer`)
}

export function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ socketPath: socket, path: '/v1/health', timeout: 1000 }, (response) => {
      response.resume()
      resolve(response.statusCode === 200)
    })
    request.on('error', () => resolve(false))
    request.on('timeout', () => request.destroy())
  })
}

export interface CommandResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `handover <args>`; each output line also goes to onLine as it arrives. */
export function runHandover(args: string[], options: { env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {}): Promise<CommandResult> {
  const child = spawn(process.execPath, [HANDOVER_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  forwardLines(child, options.onLine ?? (() => {}))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

function forwardLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = ''
    stream?.on('data', (chunk: Buffer) => {
      pending += chunk.toString()
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) onLine(line)
    })
  }
}
