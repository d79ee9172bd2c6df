import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { LineCounter, parseDocument } from 'yaml'
import { DEFAULT_BACKFILL_TUNING } from '../db/capture/chunked-backfill.js'
import { DEFAULT_VERSION_SCHEME, parseVersion } from '../db/migrations/versions/version.js'
import { InvalidInputError } from '../errors.js'
import { SLOT_NAMES, type HandoverConfig, type HostPort, type SecretSource, type SlotName } from './config.js'
import { FieldReader } from './field-reader.js'
import { readTimeouts } from './timeouts.js'
import { DEFAULT_LEASE_SECONDS, MAX_LEASE_SECONDS } from '../protocol/run-leases.js'
import { NOT_A_FORWARDER, parseForwarder } from '../proxy/http/forwarder-trust.js'
import { MAX_CLIENT_TIMEOUT_SECONDS, MAX_REQUESTS_PER_CLIENT, MAX_TRUSTED_FORWARDERS } from '../proxy/routing/route-schema.js'
import { DEFAULT_BUFFER_MAX_BYTES, DEFAULT_CLIENT_LIMITS } from '../protocol/routes.js'

const NAME_PATTERN = /^[a-z][a-z0-9-]{0,40}$/
const SQL_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Reads and validates a config file; throws InvalidInputError naming file, line and field. */
export function loadConfig(path: string): HandoverConfig {
  const file = resolve(path)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new InvalidInputError(file, `cannot read config file (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  return parseConfig(text, file)
}

export function parseConfig(text: string, file: string): HandoverConfig {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true })
  const firstError = doc.errors[0]
  if (firstError) {
    const line = lines.linePos(firstError.pos[0]).line
    throw new InvalidInputError(`${file}:${line}`, `not valid YAML: ${firstError.message.split('\n')[0]}`)
  }
  const read = new FieldReader(file, doc, lines)
  read.keys([], ['service', 'proxy', 'agent', 'database', 'migrations', 'backup', 'timeouts'])
  const baseDir = dirname(file)
  const service = readService(read)
  const proxy = readProxy(read)
  return {
    file,
    service,
    proxy,
    agent: readAgent(read, baseDir),
    database: readDatabase(read),
    migrations: readMigrations(read, baseDir),
    backup: { dir: resolve(baseDir, read.string(['backup', 'dir'], '/var/lib/handover/backups')) },
    timeouts: readTimeouts(read, service, proxy),
  }
}

function readService(read: FieldReader): HandoverConfig['service'] {
  read.keys(['service'], ['name', 'slots', 'env', 'secretEnv', 'health', 'versionPath', 'stopTimeoutSeconds'])
  const name = read.string(['service', 'name'])
  if (!NAME_PATTERN.test(name)) read.fail(['service', 'name'], 'must be lowercase letters, digits and dashes, starting with a letter')
  read.keys(['service', 'slots'], SLOT_NAMES)
  const slots = {} as Record<SlotName, { port: number }>
  for (const slot of SLOT_NAMES) slots[slot] = { port: read.int(['service', 'slots', slot, 'port'], 1, 65535) }
  if (slots.blue.port === slots.green.port) read.fail(['service', 'slots', 'green', 'port'], 'must differ from the blue port')
  read.keys(['service', 'health'], ['path', 'timeoutSeconds'])
  return {
    name,
    slots,
    env: readEnv(read),
    secretEnv: readSecretEnv(read),
    healthPath: readUrlPath(read, ['service', 'health', 'path'], '/healthz'),
    healthTimeoutSeconds: read.int(['service', 'health', 'timeoutSeconds'], 1, 3600, 60),
    versionPath: readUrlPath(read, ['service', 'versionPath'], '/version'),
    stopTimeoutSeconds: read.int(['service', 'stopTimeoutSeconds'], 1, 3600, 30),
  }
}

function readEnv(read: FieldReader): Record<string, string> {
  const env: Record<string, string> = {}
  for (const key of read.keys(['service', 'env'])) {
    if (!ENV_NAME_PATTERN.test(key)) read.fail(['service', 'env', key], 'is not a valid environment variable name')
    env[key] = read.scalarText(['service', 'env', key])
  }
  return env
}

function readSecretEnv(read: FieldReader): Record<string, SecretSource> {
  const secrets: Record<string, SecretSource> = {}
  for (const key of read.keys(['service', 'secretEnv'])) {
    if (!ENV_NAME_PATTERN.test(key)) read.fail(['service', 'secretEnv', key], 'is not a valid environment variable name')
    secrets[key] = readSecretSource(read, ['service', 'secretEnv', key])
  }
  return secrets
}

export function readSecretSource(read: FieldReader, path: string[]): SecretSource {
  const keys = read.keys(path, ['fromEnv', 'fromFile'])
  if (keys.length !== 1) read.fail(path, 'must have exactly one of fromEnv or fromFile (secrets never live in the config file)')
  if (keys[0] === 'fromEnv') return { fromEnv: read.string([...path, 'fromEnv']) }
  return { fromFile: read.string([...path, 'fromFile']) }
}

function readUrlPath(read: FieldReader, path: string[], fallback: string): string {
  const value = read.string(path, fallback)
  if (!value.startsWith('/')) read.fail(path, 'must start with /')
  return value
}

function readMigrations(read: FieldReader, baseDir: string): HandoverConfig['migrations'] {
  read.keys(['migrations'], ['dir', 'softDropRetentionHours', 'backfill', 'schemaAliases', 'versions', 'releasesWithoutScripts'])
  read.keys(['migrations', 'backfill'], ['chunkRows', 'chunkTargetMs', 'maxThreadsRunning', 'pausePercent'])
  read.keys(['migrations', 'versions'], ['preReleases', 'releases'])
  const tuning = DEFAULT_BACKFILL_TUNING
  const schemaAliases = read.strings(['migrations', 'schemaAliases'])
  for (const alias of schemaAliases) if (!SQL_NAME_PATTERN.test(alias)) read.fail(['migrations', 'schemaAliases'], `${alias} is not a plain SQL identifier (letters, digits, _)`)
  const words = (key: string, fallback: readonly string[]): string[] => {
    const listed = read.strings(['migrations', 'versions', key]).map((word) => word.toLowerCase())
    for (const word of listed) if (!/^[a-z]+$/.test(word)) read.fail(['migrations', 'versions', key], `${word} is not a word of letters`)
    return listed.length ? listed : [...fallback]
  }
  const versions = { preReleases: words('preReleases', DEFAULT_VERSION_SCHEME.preReleases), releases: words('releases', DEFAULT_VERSION_SCHEME.releases) }
  const releasesWithoutScripts = read.strings(['migrations', 'releasesWithoutScripts']).map((text) => {
    try {
      return parseVersion(text, 'migrations.releasesWithoutScripts', versions)
    } catch {
      return read.fail(['migrations', 'releasesWithoutScripts'], `${text} is not a version`)
    }
  })
  return {
    schemaAliases,
    versions,
    releasesWithoutScripts,
    dir: resolve(baseDir, read.string(['migrations', 'dir'], 'migrations')),
    softDropRetentionHours: read.int(['migrations', 'softDropRetentionHours'], 0, 24 * 365, 0),
    backfill: {
      chunkRows: read.int(['migrations', 'backfill', 'chunkRows'], 50, 2_000, tuning.chunkRows),
      chunkTargetMs: read.int(['migrations', 'backfill', 'chunkTargetMs'], 5, 1_000, tuning.chunkTargetMs),
      maxThreadsRunning: read.int(['migrations', 'backfill', 'maxThreadsRunning'], 1, 10_000, tuning.maxThreadsRunning),
      pauseRatio: read.int(['migrations', 'backfill', 'pausePercent'], 0, 1_000, Math.round(tuning.pauseRatio * 100)) / 100,
    },
  }
}

function readProxy(read: FieldReader): HandoverConfig['proxy'] {
  read.keys(['proxy'], ['listen', 'buffer', 'drainTimeoutSeconds', 'trustedForwarders', 'limits'])
  read.keys(['proxy', 'buffer'], ['maxRequests', 'maxWaitSeconds', 'maxBytes'])
  return {
    listen: readHostPort(read, ['proxy', 'listen']),
    buffer: {
      maxRequests: read.int(['proxy', 'buffer', 'maxRequests'], 1, 1_000_000, 10_000),
      maxWaitSeconds: read.int(['proxy', 'buffer', 'maxWaitSeconds'], 1, 3600, 60),
      maxBytes: read.int(['proxy', 'buffer', 'maxBytes'], 1024, 2 ** 40, DEFAULT_BUFFER_MAX_BYTES),
    },
    drainTimeoutSeconds: read.int(['proxy', 'drainTimeoutSeconds'], 1, 3600, 30),
    trustedForwarders: readForwarders(read, ['proxy', 'trustedForwarders']),
    limits: readLimits(read),
  }
}

function readLimits(read: FieldReader): HandoverConfig['proxy']['limits'] {
  read.keys(['proxy', 'limits'], ['headTimeoutSeconds', 'bodyTimeoutSeconds', 'upstreamWaitSeconds', 'maxRequestsPerClient'])
  const seconds = (key: keyof typeof DEFAULT_CLIENT_LIMITS): number => read.int(['proxy', 'limits', key], 1, MAX_CLIENT_TIMEOUT_SECONDS, DEFAULT_CLIENT_LIMITS[key])
  return {
    headTimeoutSeconds: seconds('headTimeoutSeconds'),
    bodyTimeoutSeconds: seconds('bodyTimeoutSeconds'),
    upstreamWaitSeconds: seconds('upstreamWaitSeconds'),
    maxRequestsPerClient: read.int(['proxy', 'limits', 'maxRequestsPerClient'], 1, MAX_REQUESTS_PER_CLIENT, DEFAULT_CLIENT_LIMITS.maxRequestsPerClient),
  }
}

function readForwarders(read: FieldReader, path: string[]): string[] {
  const entries = read.strings(path)
  if (entries.length > MAX_TRUSTED_FORWARDERS) read.fail(path, `must list at most ${MAX_TRUSTED_FORWARDERS} entries`)
  entries.forEach((entry, i) => {
    if (parseForwarder(entry) === undefined) read.fail([...path, i], NOT_A_FORWARDER)
  })
  return entries
}

export function parseHostPort(value: string): HostPort | undefined {
  const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(value)
  if (!match) return undefined
  const port = Number(match[2])
  if (port < 1 || port > 65535) return undefined
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port }
}

function readHostPort(read: FieldReader, path: string[]): HostPort {
  const parsed = parseHostPort(read.string(path))
  if (!parsed) read.fail(path, 'must be host:port, e.g. 127.0.0.1:8080')
  return parsed
}

function readAgent(read: FieldReader, baseDir: string): HandoverConfig['agent'] {
  read.keys(['agent'], ['socket', 'takeover', 'leaseSeconds'])
  return {
    socket: resolve(baseDir, read.string(['agent', 'socket'], '/run/handover/agent.sock')),
    takeover: read.bool(['agent', 'takeover'], true),
    leaseSeconds: read.int(['agent', 'leaseSeconds'], 1, MAX_LEASE_SECONDS, DEFAULT_LEASE_SECONDS),
  }
}

function readDatabase(read: FieldReader): HandoverConfig['database'] {
  read.keys(['database'], ['host', 'port', 'user', 'password', 'schema', 'journalSchema', 'versionTable', 'versionColumn', 'versionWrite'])
  const sqlName = (key: string, fallback?: string): string => {
    const value = read.string(['database', key], fallback)
    if (!SQL_NAME_PATTERN.test(value)) read.fail(['database', key], 'must be a plain SQL identifier (letters, digits, _)')
    return value
  }
  return {
    host: read.string(['database', 'host'], '127.0.0.1'),
    port: read.int(['database', 'port'], 1, 65535, 3306),
    user: read.string(['database', 'user']),
    password: readSecretSource(read, ['database', 'password']),
    schema: sqlName('schema'),
    journalSchema: sqlName('journalSchema', 'handover'),
    versionTable: sqlName('versionTable', 'app_version'),
    versionColumn: sqlName('versionColumn', 'version'),
    ...readVersionWrite(read),
  }
}

function readVersionWrite(read: FieldReader): { versionWrite?: string } {
  const sql = read.optionalString(['database', 'versionWrite'])
  if (sql === undefined) return {}
  if (!sql.includes(':version')) read.fail(['database', 'versionWrite'], 'must contain :version where the new version goes')
  if (/;\s*\S/.test(sql)) read.fail(['database', 'versionWrite'], 'must be one statement')
  return { versionWrite: sql }
}
