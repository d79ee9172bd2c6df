import { spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The CLI entry point of this installation, so a launched command runs the same code as the agent. */
export const HANDOVER_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/handover.js')

export interface LaunchedCommand {
  pid: number
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>
}

/**
 * Starts a `handover` command as its own process group with its output appended to
 * `logFile`: it outlives the agent that launched it (a restart of the agent, or of its
 * systemd unit with KillMode=process, does not cut a run short). Secrets reach it through
 * the environment or files the config names, never argv.
 */
export function launchHandover(args: readonly string[], options: { logFile: string; cwd: string; env?: NodeJS.ProcessEnv }): LaunchedCommand {
  mkdirSync(dirname(options.logFile), { recursive: true })
  const log = openSync(options.logFile, 'a')
  try {
    const child = spawn(process.execPath, [HANDOVER_BIN, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    })
    const exited = new Promise<number | null>((done) => {
      child.once('exit', (code) => done(code))
      child.once('error', () => done(null))
    })
    child.unref()
    return { pid: child.pid ?? -1, exited }
  } finally {
    closeSync(log)
  }
}
