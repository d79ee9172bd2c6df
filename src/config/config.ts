/** The validated, defaulted configuration of one service. Every key is documented in deploy/handover.example.yaml. */
import type { BackfillTuning } from '../db/capture/chunked-backfill.js'
import type { Version, VersionScheme } from '../db/migrations/versions/version.js'
import type { PhaseName } from '../protocol/phases.js'
import type { ClientLimits, SlotName } from '../protocol/routes.js'

export { SLOT_NAMES, type SlotName } from '../protocol/routes.js'

/** Where a secret's value comes from: never the config file itself, never argv. */
export type SecretSource = { fromEnv: string } | { fromFile: string }

export interface HostPort {
  host: string
  port: number
}

export interface ServiceConfig {
  name: string
  slots: Record<SlotName, { port: number }>
  env: Record<string, string>
  secretEnv: Record<string, SecretSource>
  healthPath: string
  versionPath: string
  healthTimeoutSeconds: number
  stopTimeoutSeconds: number
}

export interface ProxyConfig {
  listen: HostPort
  buffer: { maxRequests: number; maxWaitSeconds: number; maxBytes: number }
  drainTimeoutSeconds: number
  /** The proxies in front of handover's (addresses or CIDR blocks) whose X-Forwarded-* headers are kept. */
  trustedForwarders: string[]
  /** What one client may hold: head and body timeouts, the wait for an upstream connection, the per-address cap. */
  limits: ClientLimits
}

export interface DatabaseConfig {
  host: string
  port: number
  user: string
  password: SecretSource
  schema: string
  journalSchema: string
  versionTable: string
  versionColumn: string
  /**
   * The statement finalize writes the version with, `:version` standing for it; by default
   * the one row of versionTable is replaced. Checked on the rehearsal copy before anything runs.
   */
  versionWrite?: string
}

/** How long each phase (its forward, and its undo) may run, and how long a cancelled one may take to stop. */
export interface TimeoutsConfig {
  phases: Record<PhaseName, number>
  /** After a phase's timeout its work is cancelled; this long is waited for it to stop before its undo starts. */
  cancelGraceSeconds: number
}

export interface HandoverConfig {
  /** Absolute path of the file this was read from, for messages. */
  file: string
  service: ServiceConfig
  proxy: ProxyConfig
  agent: {
    socket: string
    /** A run whose runner stops renewing its lease is resumed by the agent. */
    takeover: boolean
    /** Seconds without a renewal after which the runner counts as dead. */
    leaseSeconds: number
  }
  database: DatabaseConfig
  migrations: {
    dir: string
    softDropRetentionHours: number
    backfill: BackfillTuning
    /** Names the scripts give database.schema (`USE ApolloConfigDB`): such a USE is no statement. */
    schemaAliases: string[]
    /** How version qualifiers order (4.0.0-alpha-2 < 4.0.0-beta-1 < 4.0.0 = 4.0.0-GA). */
    versions: VersionScheme
    /** Releases without a script and without a schema change: steps of their own. */
    releasesWithoutScripts: Version[]
  }
  backup: { dir: string }
  timeouts: TimeoutsConfig
}
