/**
 * `handover agent`: wires the proxy (router, services), its admin API, the route
 * store and the metrics listener into one object with one `close()`. Everything the agent
 * owns is per instance (including the Prometheus registry), so two agents can run in one
 * process, as the tests do.
 */
import { dirname, join } from 'node:path'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { ScheduleMetrics } from '../metrics/schedule-metrics.js'
import { scheduleEndpoints } from '../supervisor/schedule/schedule-endpoints.js'
import { Scheduler } from '../supervisor/schedule/scheduler.js'
import { ScheduleStore } from '../supervisor/schedule/schedule-store.js'
import { startMetricsServer, type MetricsServer } from '../metrics/metrics-server.js'
import { ProxyMetrics } from '../metrics/proxy-metrics.js'
import { UpgradeMetrics } from '../metrics/upgrade-metrics.js'
import { checkAdminTransport, startAdminApi, startTcpAdminApi, type AdminApi, type AdminTransport, type TcpAdminApi } from './admin/admin-api.js'
import type { AdminToken } from './admin/admin-auth.js'
import { adminEndpoints } from './admin/admin-endpoints.js'
import { ListenError } from './errors.js'
import { stderrLogger, type Logger } from './log.js'
import { upgradeEventLine, withRunIds } from './upgrade-log.js'
import { RouteStore } from './routing/route-store.js'
import { Router } from './routing/router.js'
import { DEFAULT_CLIENT_LIMITS } from '../protocol/routes.js'
import { RunSupervisor } from '../supervisor/run-supervisor.js'
import { DEFAULT_UPSTREAM_IDLE_MS, DEFAULT_UPSTREAM_MAX_CONNECTIONS } from './upstream/upstream-pool.js'

export interface AgentOptions {
  /** Admin API unix socket; its directory is created, a stale socket file replaced. */
  socketPath: string
  /** Also serve the admin API on TCP; every request must carry the token. */
  adminTcp?: { host: string; port: number; token: AdminToken; transport?: AdminTransport }
  /** Route table, restored on start and rewritten atomically on every change; the watched runs (runs.json), takeover logs (runs/), schedules (schedules.json) and scheduled runs' output (scheduled-runs/) go in its directory. */
  stateFile: string
  /** Where GET /metrics is served; port 0 picks a free port (see Agent.metricsPort). */
  metrics: { host: string; port: number }
  /** Defaults to a new Registry with Node process metrics; never prom-client's global one. */
  registry?: Registry
  /** One JSON object per log line; defaults to stderr. */
  log?: Logger
  /** Idle upstream sockets are closed after this; below every upstream's keep-alive timeout. Default 4000. */
  upstreamIdleMs?: number
  /** Upstream connections per slot at most; more requests wait in order. Default 256. */
  upstreamMaxConnections?: number
  /** How long closing listeners let in-flight requests finish. Default 10000. */
  closeGraceMs?: number
  /** Keep-alive idle timeout towards clients. Default 65. */
  clientKeepAliveSeconds?: number
  /** A client has this long to send a whole request head, else 408 and closed. Default 30. */
  clientHeadTimeoutSeconds?: number
  /** A request body that sends nothing for this long is answered 408 and closed. Default 30. */
  clientBodyTimeoutSeconds?: number
  /** A request waiting this long for an upstream connection is answered 503. Default 10. */
  upstreamWaitSeconds?: number
  /** Requests from one client address using or waiting for one slot's upstream connections. Default 128. */
  maxRequestsPerClient?: number
}

export interface Agent {
  readonly socketPath: string
  readonly metricsPort: number
  /** The TCP admin listener's port, when one was asked for. */
  readonly adminTcpPort: number | undefined
  readonly registry: Registry
  /** Answers held requests 503, closes every listener (in-flight requests get the grace period). */
  close(): Promise<void>
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  // Refused before anything listens, the admin socket included.
  if (options.adminTcp !== undefined) checkAdminTransport(options.adminTcp.host, options.adminTcp.port, options.adminTcp.transport)
  const registry = options.registry ?? defaultRegistry()
  const upgradeMetrics = new UpgradeMetrics(registry)
  const log = withRunIds(options.log ?? stderrLogger, (service) => upgradeMetrics.runs.runningRunId(service))
  upgradeMetrics.subscribe((event) => log(upgradeEventLine(event)))
  let router: Router | undefined
  const proxyMetrics = new ProxyMetrics(registry, () => router?.snapshot() ?? [])
  const clientKeepAliveSeconds = options.clientKeepAliveSeconds ?? 65
  router = new Router(
    {
      metrics: proxyMetrics,
      log,
      upstream: {
        idleTimeoutMs: options.upstreamIdleMs ?? DEFAULT_UPSTREAM_IDLE_MS,
        maxConnections: options.upstreamMaxConnections ?? DEFAULT_UPSTREAM_MAX_CONNECTIONS,
      },
      clientKeepAliveSeconds,
      // A route's own `limits` override these field by field.
      limits: {
        headTimeoutSeconds: options.clientHeadTimeoutSeconds ?? DEFAULT_CLIENT_LIMITS.headTimeoutSeconds,
        bodyTimeoutSeconds: options.clientBodyTimeoutSeconds ?? DEFAULT_CLIENT_LIMITS.bodyTimeoutSeconds,
        upstreamWaitSeconds: options.upstreamWaitSeconds ?? DEFAULT_CLIENT_LIMITS.upstreamWaitSeconds,
        maxRequestsPerClient: options.maxRequestsPerClient ?? DEFAULT_CLIENT_LIMITS.maxRequestsPerClient,
      },
      closeGraceMs: options.closeGraceMs ?? 10_000,
    },
    new RouteStore(options.stateFile),
  )
  const runs = new RunSupervisor({ stateDir: dirname(options.stateFile), registry, log, holding: (service) => router?.list().some((route) => route.name === service && (route.slots.blue.state === 'buffering' || route.slots.green.state === 'buffering')) === true })
  const scheduler = new Scheduler({
    store: new ScheduleStore(join(dirname(options.stateFile), 'schedules.json')),
    log,
    metrics: new ScheduleMetrics(registry),
    runningRunId: (service) => upgradeMetrics.runs.runningRunId(service),
    logDir: join(dirname(options.stateFile), 'scheduled-runs'),
  })
  upgradeMetrics.subscribe((event) => scheduler.onEvent(event))
  let admin: AdminApi | undefined
  let adminTcp: TcpAdminApi | undefined
  let metricsServer: MetricsServer | undefined
  const close = async (): Promise<void> => {
    // Admin first, so no change arrives while the listeners shut.
    await runs.stop()
    await admin?.close()
    scheduler.close()
    await adminTcp?.close()
    await router?.close()
    await metricsServer?.close()
  }
  try {
    // The admin socket first: a second agent on the same socket fails here, before it
    // touches any service port.
    const endpoints = [...adminEndpoints(router, upgradeMetrics, runs), ...scheduleEndpoints(scheduler)]
    admin = await startAdminApi(options.socketPath, endpoints, log)
    if (options.adminTcp !== undefined) {
      const { host, port, token, transport } = options.adminTcp
      adminTcp = await startTcpAdminApi(host, port, token, endpoints, log, transport)
    }
    await router.restore()
    await runs.start()
    await scheduler.start()
    metricsServer = await listenMetrics(registry, options.metrics)
  } catch (error) {
    await close()
    throw error
  }
  log({ level: 'info', msg: 'agent started', socket: options.socketPath, adminTcpPort: adminTcp?.port, stateFile: options.stateFile, metricsPort: metricsServer.port })
  let closing: Promise<void> | undefined
  return {
    socketPath: options.socketPath,
    metricsPort: metricsServer.port,
    adminTcpPort: adminTcp?.port,
    registry,
    close: () => (closing ??= close().then(() => log({ level: 'info', msg: 'agent stopped' }))),
  }
}

function defaultRegistry(): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return registry
}

async function listenMetrics(registry: Registry, address: { host: string; port: number }): Promise<MetricsServer> {
  try {
    return await startMetricsServer(registry, address.host, address.port)
  } catch (error) {
    throw new ListenError('metrics', `${address.host}:${address.port}`, error)
  }
}
