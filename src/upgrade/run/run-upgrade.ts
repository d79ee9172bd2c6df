import { randomUUID } from 'node:crypto'
import { hostname, userInfo } from 'node:os'
import type { HandoverConfig, SlotName } from '../../config/config.js'
import type { Connection } from '../../db/connection.js'
import { Journal } from '../../db/journal/journal.js'
import { withServiceLock } from '../../db/journal/locked-session.js'
import { compareVersions, formatVersion, parseVersion } from '../../db/migrations/versions/version.js'
import { readSchemaVersion } from '../../db/migrations/versions/version-table.js'
import { HandoverError } from '../../errors.js'
import { otherSlot } from '../../protocol/routes.js'
import { DockerRuntime } from '../../runtime/docker-runtime.js'
import { EventBus } from '../reporting/event-bus.js'
import { journalRecorder } from '../reporting/journal-recorder.js'
import { runPhases, type RunOutcome } from './phase-runner.js'
import { planScripts, staleHistory } from '../planning/plan-upgrade.js'
import { HistoryMismatchError } from '../../db/migrations/history-consistency.js'
import type { ProxyControl } from '../slots/proxy-control.js'
import { STRICT_PHASES } from './strict-phases.js'
import { resolveTarget } from '../planning/target-release.js'
import type { Phase } from './upgrade-context.js'
import { buildRunContext } from './run-context.js'
import { refuseUnfinished } from '../steering/unfinished-run.js'

export class NothingToDoError extends HandoverError {
  readonly code = 'NOTHING_TO_DO'
}

export class SlotsDivergeError extends HandoverError {
  readonly code = 'SLOTS_DIVERGE'
}

export interface UpgradeRequest {
  config: HandoverConfig
  image: string
  /** Overrides the image's version label. */
  version?: string
  standby?: SlotName
  proxy: ProxyControl
  bus: EventBus
  docker?: DockerRuntime
  /** The phases to run; STRICT_PHASES unless a test injects a failing one. */
  phases?: readonly Phase[]
}

export interface UpgradeReport extends RunOutcome {
  runId: string
  from: { image: string; version: string }
  to: { image: string; version: string }
}

/** One strict upgrade, from gathering the facts to releasing the lock. */
export async function runUpgrade(request: UpgradeRequest): Promise<UpgradeReport> {
  const { config } = request
  const docker = request.docker ?? new DockerRuntime()
  const target = await resolveTarget(docker, request.image, request.version)
  return withServiceLock(config, (db) => runLocked(request, docker, db, target))
}

async function runLocked(request: UpgradeRequest, docker: DockerRuntime, db: Connection, to: UpgradeReport['to']): Promise<UpgradeReport> {
  const { config, bus } = request
  const standby = request.standby ?? 'green'
  const active = otherSlot(standby)
  const journal = new Journal(db, config.database.journalSchema)
  // First: a run cut off after writing the version would otherwise read as "nothing to do".
  await refuseUnfinished(journal, config.service.name)
  const schemaVersion = await readSchemaVersion(db, config.database, config.migrations.versions)
  const targetVersion = parseVersion(to.version, '--version', config.migrations.versions)
  if (compareVersions(targetVersion, schemaVersion) <= 0) {
    throw new NothingToDoError(`${config.database.schema} is already at version ${formatVersion(schemaVersion)}; the target is ${to.version}`)
  }
  const from = { image: await currentImage(docker, config.service.name), version: formatVersion(schemaVersion) }
  const runId = randomUUID()
  bus.subscribe(journalRecorder(journal), { required: true })
  const scripts = (await planScripts(db, config, schemaVersion, targetVersion)).map((step) => step.script)
  // A fresh run trusts the history only where the schema agrees: after a restore it would skip everything and succeed.
  const stale = await staleHistory(db, config, scripts)
  if (stale.length) throw new HistoryMismatchError(stale)
  const context = buildRunContext(request, docker, db, journal, { runId, standby, active, from, to, scripts })
  await journal.startRun({ id: runId, service: config.service.name, fromVersion: from.version, toVersion: to.version, fromImage: from.image, toImage: to.image, standbySlot: standby }, userInfo().username, hostname())
  const began = performance.now()
  await bus.emit({ type: 'run-started', service: config.service.name, runId, fromVersion: from.version, toVersion: to.version, mode: 'strict' })
  const outcome = await runPhases(request.phases ?? STRICT_PHASES, context, bus)
  await journal.finishRun(runId, outcome.result, outcome.error)
  await bus.emit({ type: 'run-finished', service: config.service.name, runId, result: outcome.result, durationSeconds: (performance.now() - began) / 1000 })
  return { ...outcome, runId, from, to }
}

/** Both slots must run the same image before an upgrade; otherwise an earlier run is unfinished. */
async function currentImage(docker: DockerRuntime, service: string): Promise<string> {
  const blue = await docker.inspectSlot(service, 'blue')
  const green = await docker.inspectSlot(service, 'green')
  if (!blue || !green) throw new SlotsDivergeError(`service ${service} has no container for slot ${blue ? 'green' : 'blue'}; run \`handover deploy\` first`)
  if (blue.image !== green.image) {
    throw new SlotsDivergeError(`slots of ${service} run different images (blue ${blue.image}, green ${green.image}); an earlier run did not finish, see \`handover status\``)
  }
  return blue.image
}
