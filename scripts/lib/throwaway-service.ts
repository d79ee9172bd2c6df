/**
 * A throw-away demo service for one integration test or one case of the crash matrix: unique name, schema, ports, agent
 * socket and config file, with cleanup of everything it created (containers by label,
 * schema, migration history rows, the agent process it started).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Docker from 'dockerode'
import mysql from 'mysql2/promise'
import { freePort } from './free-port.js'
import { startAgentProcess, type AgentProcess } from './handover-process.js'
import { dbPassword } from './db-password.js'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../deploy/demo/migrations', import.meta.url))
export const JOURNAL_SCHEMA = 'handover_test_journal'

export interface TestService {
  name: string
  schema: string
  configFile: string
  dir: string
  proxyUrl: string
  slotPorts: { blue: number; green: number }
  agent: AgentProcess
  /** Connections as the tool's user, for assertions. */
  db: mysql.Pool
  cleanup(): Promise<void>
  /** SIGKILLs the agent, waits `downMs`, and starts a new one on the same socket, state file and metrics port. */
  crashAgent(downMs: number): Promise<void>
}

const docker = new Docker()

async function removeContainersOf(service: string): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`handover.service=${service}`] } })
  await Promise.all(containers.map((info) => docker.getContainer(info.Id).remove({ force: true }).catch(() => undefined)))
}

/** Containers left behind by an earlier, interrupted run of tests with this prefix. */
export async function removeLeftovers(prefix: string): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: ['handover.managed=true'] } })
  const stale = containers.filter((info) => info.Labels['handover.service']?.startsWith(prefix))
  await Promise.all(stale.map((info) => docker.getContainer(info.Id).remove({ force: true }).catch(() => undefined)))
}

/** `takeover: false` leaves a run whose process died to the test's own resume or abort (the agent would otherwise resume it). */
export async function createTestService(prefix: string, options: { maxWaitSeconds?: number; migrationsDir?: string; migrationsExtra?: string; takeover?: boolean; dbPort?: number } = {}): Promise<TestService> {
  // Read before anything is made: a missing password must fail the test, not leave an agent process behind.
  const password = dbPassword()
  const suffix = Math.random().toString(36).slice(2, 8)
  const name = `${prefix}-${suffix}`
  const schema = `${prefix.replace(/-/g, '_')}_${suffix}`
  const dir = mkdtempSync(join(tmpdir(), `${name}-`))
  const [proxyPort, blue, green, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const configFile = join(dir, 'handover.yaml')
  writeFileSync(configFile, configYaml({ name, schema, dir, proxyPort, blue, green, maxWaitSeconds: options.maxWaitSeconds ?? 60, migrationsDir: options.migrationsDir ?? MIGRATIONS_DIR, migrationsExtra: options.migrationsExtra ?? '', takeover: options.takeover ?? true, dbPort: options.dbPort ?? 3306 }))
  const agentOptions = { socket: join(dir, 'agent.sock'), stateFile: join(dir, 'routes.json'), metricsPort }
  const agent = await startAgentProcess(agentOptions)
  // A pool: it reconnects after the server restarts (a fault the crash matrix injects).
  const db = mysql.createPool({ host: '127.0.0.1', port: options.dbPort ?? 3306, user: 'handover', password, connectionLimit: 4 })
  const svc: TestService = {
    name,
    schema,
    configFile,
    dir,
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    slotPorts: { blue, green },
    agent,
    db,
    cleanup: async () => {
      await svc.agent.stop()
      await removeContainersOf(name)
      await db.query(`DROP DATABASE IF EXISTS \`${schema}\``)
      await db.query(`DELETE FROM ${JOURNAL_SCHEMA}.handover_migrations WHERE service = ?`, [name]).catch(() => undefined)
      await db.end()
      rmSync(dir, { recursive: true, force: true })
    },
    crashAgent: async (downMs) => {
      // What systemd does with Restart=always and RestartSec=1 after an OOM kill.
      process.kill(svc.agent.pid, 'SIGKILL')
      await svc.agent.exited
      await new Promise((resolve) => setTimeout(resolve, downMs))
      svc.agent = await startAgentProcess(agentOptions)
    },
  }
  return svc
}

/** `migrationsExtra`: more keys of the migrations section, as YAML lines indented by two spaces. */
export function configYaml(o: { name: string; schema: string; dir: string; proxyPort: number; blue: number; green: number; maxWaitSeconds: number; migrationsDir: string; migrationsExtra?: string; takeover?: boolean; dbPort?: number }): string {
  return `service:
  name: ${o.name}
  slots:
    blue: { port: ${o.blue} }
    green: { port: ${o.green} }
  env:
    DB_HOST: 127.0.0.1
    DB_PORT: ${o.dbPort ?? 3306}
    DB_USER: handover
    DB_NAME: ${o.schema}
  secretEnv:
    DB_PASSWORD: { fromEnv: HANDOVER_DB_PASSWORD }
  health: { path: /healthz, timeoutSeconds: 30 }
  stopTimeoutSeconds: 15
proxy:
  listen: 127.0.0.1:${o.proxyPort}
  buffer: { maxRequests: 10000, maxWaitSeconds: ${o.maxWaitSeconds} }
  drainTimeoutSeconds: 30
agent:
  socket: ${join(o.dir, 'agent.sock')}
  takeover: ${o.takeover ?? true}
database:
  port: ${o.dbPort ?? 3306}
  user: handover
  password: { fromEnv: HANDOVER_DB_PASSWORD }
  schema: ${o.schema}
  journalSchema: ${JOURNAL_SCHEMA}
migrations:${o.migrationsExtra ?? ''}
  dir: ${o.migrationsDir}
backup:
  dir: ${join(o.dir, 'backups')}
`
}

/** A copy of the demo's migration scripts in `dir`, with v2.sql passed through `edit`. */
export function demoMigrationsWith(dir: string, edit: (v2: string) => string): string {
  const migrations = join(dir, 'migrations')
  mkdirSync(migrations)
  copyFileSync(join(MIGRATIONS_DIR, 'v1.sql'), join(migrations, 'v1.sql'))
  writeFileSync(join(migrations, 'v2.sql'), edit(readFileSync(join(MIGRATIONS_DIR, 'v2.sql'), 'utf8')))
  return migrations
}
