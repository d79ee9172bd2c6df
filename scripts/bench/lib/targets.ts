/**
 * The proxies a bench compares, each started in its own temp dir on a free port, in front of
 * the same upstream, and stopped by the PID it was started with. nginx and HAProxy are
 * installed with apt-get when missing (Debian's nginx-light and haproxy).
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AdminClient } from '../../../src/protocol/admin-client.js'
import { freePort } from '../../lib/free-port.js'
import { agentArgs, waitForAgent } from '../../lib/handover-process.js'
import { firstLine, start, waitForPort, type Started } from './processes.js'

export interface Target {
  name: string
  port: number
  /** The processes doing the proxying (nginx: its worker), for CPU time per request. */
  pids(): number[]
  stop(): Promise<void>
}

export function ensureInstalled(binary: string, aptPackage: string): string {
  const path = `/usr/sbin/${binary}`
  try {
    execFileSync('sh', ['-c', `command -v ${binary} || test -x ${path}`], { stdio: 'ignore' })
  } catch {
    process.stderr.write(`installing ${aptPackage}\n`)
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' })
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', aptPackage], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  }
  return path
}

export async function startNginx(dir: string, upstreamPort: number): Promise<Target> {
  const location = `location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
    }`
  return runNginx(join(dir, 'nginx'), 'nginx', `upstream app { server 127.0.0.1:${upstreamPort}; keepalive 64; }`, location)
}

/**
 * nginx as the upstream itself, answering every request with a fixed 100-byte body: the
 * cheapest real HTTP server at hand, for benches whose figure is the proxy's alone.
 */
export async function startFixedAnswerNginx(dir: string): Promise<Target> {
  return runNginx(join(dir, 'nginx-upstream'), 'nginx-upstream', '', `location / { return 200 "${'x'.repeat(100)}"; }`)
}

async function runNginx(home: string, name: string, upstreams: string, location: string): Promise<Target> {
  const binary = ensureInstalled('nginx', 'nginx-light')
  const port = await freePort()
  mkdirSync(join(home, 'logs'), { recursive: true })
  const conf = join(home, 'nginx.conf')
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${join(home, 'nginx.pid')};
error_log ${join(home, 'logs', 'error.log')} warn;
events { worker_connections 20000; }
worker_rlimit_nofile 40000;
http {
  access_log off;
  default_type text/plain;
  # nginx closes a client connection after 1,000 requests by default; the others never do.
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  ${upstreams}
  server {
    listen 127.0.0.1:${port};
    ${location}
  }
}
`,
  )
  const process = start(binary, ['-p', home, '-c', conf], { stdio: 'ignore' })
  await waitForPort(port)
  return target(name, port, process)
}

export async function startHaproxy(dir: string, upstreamPort: number): Promise<Target> {
  const binary = ensureInstalled('haproxy', 'haproxy')
  const port = await freePort()
  const conf = join(dir, 'haproxy.cfg')
  writeFileSync(
    conf,
    `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  option forwardfor
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend bench
  bind 127.0.0.1:${port}
  default_backend app
backend app
  server app1 127.0.0.1:${upstreamPort}
`,
  )
  const process = start(binary, ['-db', '-f', conf], { stdio: 'ignore' })
  await waitForPort(port)
  return target('haproxy', port, process)
}

/** The real agent (bin/handover.js over dist/), one service whose two slots are the same upstream. */
export async function startHandover(dir: string, upstreamPort: number): Promise<Target> {
  const socket = join(dir, 'agent.sock')
  // Started here, not by startAgentProcess, so that stopAll tracks it by its PID.
  const agent = start(process.execPath, agentArgs({ socket, stateFile: join(dir, 'routes.json'), metricsPort: await freePort() }), { stdio: 'ignore' })
  await waitForAgent(socket, new Promise((resolve) => agent.child.once('exit', resolve)))
  const client = new AdminClient(socket, 5)
  const slot = { host: '127.0.0.1', port: upstreamPort, state: 'active' as const }
  const { listen } = await client.putService({ name: 'bench', listen: { host: '127.0.0.1', port: 0 }, slots: { blue: slot, green: { ...slot, state: 'disabled' } }, buffer: { maxRequests: 10_000, maxWaitSeconds: 60 } })
  return target('handover', listen.port, agent)
}

/** Node's floor: a byte relay on the same socket API the agent uses (lib/node-relay.ts). */
export async function startNodeRelay(upstreamPort: number): Promise<Target> {
  const relay = start(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./node-relay.ts', import.meta.url)), String(upstreamPort)])
  const port = Number(await firstLine(relay))
  return target('node-relay', port, relay)
}

export function target(name: string, port: number, started: Started): Target {
  return { name, port, pids: () => [started.pid, ...childrenOf(started.pid)], stop: () => started.stop() }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/**
 * User + system CPU seconds the processes have used so far (from /proc, in clock ticks of
 * 10 ms): all their threads, or with `main` only the thread running the event loop, which
 * is what bounds a Node process (V8's compiler and GC helpers run beside it).
 */
export function cpuSeconds(pids: readonly number[], threads: 'all' | 'main' = 'all'): number {
  let ticks = 0
  for (const pid of pids) {
    try {
      const fields = readFileSync(threads === 'main' ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // gone: counts nothing
    }
  }
  return ticks / 100
}
