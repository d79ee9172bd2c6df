/**
 * Everything `handover status` shows, gathered once into StatusJson: the text view and
 * `--json` print the same facts. A part that cannot be reached (the agent, a container's
 * version endpoint) is reported as null with the reason, not as a failure of the command.
 */
import { SLOT_NAMES, type HandoverConfig, type SlotName } from '../config/config.js'
import type { RowDataPacket } from 'mysql2/promise'
import { connect, type Connection } from '../db/connection.js'
import { Journal } from '../db/journal/journal.js'
import { formatVersion } from '../db/migrations/versions/version.js'
import { readSchemaVersion } from '../db/migrations/versions/version-table.js'
import { errorMessage } from '../errors.js'
import { AdminClient } from '../protocol/admin-client.js'
import type { ServiceStatus } from '../protocol/routes.js'
import type { WatchedRun } from '../protocol/run-leases.js'
import { DockerRuntime } from '../runtime/docker-runtime.js'
import { answeredVersion, slotUrl } from '../upgrade/slots/slot-health.js'
import type { StatusJson, StatusSlotJson } from './json-output.js'
import { readRunHistory, readRunSteps } from './run-history.js'
import { factJson } from './run-summary.js'
import { RunFactTable } from '../db/journal/run-facts.js'

export async function gatherStatus(config: HandoverConfig): Promise<StatusJson> {
  let proxyError: string | null = null
  const agent = new AdminClient(config.agent.socket)
  const route = await agent.getService(config.service.name).catch((error: unknown) => {
    proxyError = errorMessage(error)
    return undefined
  })
  const docker = new DockerRuntime()
  const slots: StatusSlotJson[] = []
  for (const slot of SLOT_NAMES) slots.push(await slotStatus(config, docker, route, slot))
  const watched = await new AdminClient(config.agent.socket).listRuns().catch(() => [])
  return {
    service: config.service.name,
    proxy: { listen: `${config.proxy.listen.host}:${config.proxy.listen.port}`, buffered: route?.buffered ?? null, error: proxyError },
    slots,
    ...(await databaseStatus(config, watched)),
    schedules: await agent.listSchedules().then((all) => all.filter((schedule) => schedule.service === config.service.name), () => null),
  }
}

async function slotStatus(config: HandoverConfig, docker: DockerRuntime, route: ServiceStatus | undefined, slot: SlotName): Promise<StatusSlotJson> {
  const container = await docker.inspectSlot(config.service.name, slot)
  const proxied = route?.slots[slot]
  return {
    slot,
    port: config.service.slots[slot].port,
    proxy: proxied ? { state: proxied.state, inFlight: proxied.inFlight, healthy: proxied.healthy } : null,
    container: container ? { image: container.image, running: container.running, exitCode: container.exitCode } : null,
    answersVersion: container?.running ? await answeredVersion(slotUrl(config, slot, config.service.versionPath), 1000).catch(() => null) : null,
  }
}

async function databaseStatus(config: HandoverConfig, watched: readonly WatchedRun[]): Promise<Pick<StatusJson, 'schema' | 'lastRun'>> {
  const db = await connect(config.database)
  try {
    const version = formatVersion(await readSchemaVersion(db, config.database, config.migrations.versions))
    await Journal.ensureTables(db, config.database.journalSchema)
    const [run] = await readRunHistory(db, config.database.journalSchema, config.service.name, 1)
    const lastRun = run
      ? {
          ...run,
          steps: await readRunSteps(db, config.database.journalSchema, run.id),
          facts: (await new RunFactTable(db, config.database.journalSchema).ofRun(run.id, config.service.name)).map(factJson),
          processGone: run.result === 'running' && (await lockFree(db, config.service.name)),
          watch: watched.find((watch) => watch.runId === run.id) ?? null,
        }
      : null
    return { schema: { name: config.database.schema, version }, lastRun }
  } finally {
    await db.end()
  }
}

/** A running run's process holds the service lock; a free lock means that process is gone. */
async function lockFree(db: Connection, service: string): Promise<boolean> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT IS_FREE_LOCK(?) AS free', [`handover:${service}`])
  return Number(rows[0]?.free) === 1
}
