import type { HandoverConfig, SlotName } from '../../config/config.js'
import type { Connection } from '../../db/connection.js'
import { Journal, type RunRecord } from '../../db/journal/journal.js'
import { withServiceLock } from '../../db/journal/locked-session.js'
import { RunAlgorithmTable } from '../../db/journal/run-algorithms.js'
import { parseVersion } from '../../db/migrations/versions/version.js'
import { otherSlot } from '../../protocol/routes.js'
import { DockerRuntime } from '../../runtime/docker-runtime.js'
import type { EventBus } from '../reporting/event-bus.js'
import { journalRecorder } from '../reporting/journal-recorder.js'
import { runPhases, undoPhases, type RunOutcome } from '../run/phase-runner.js'
import { planScripts } from '../planning/plan-upgrade.js'
import { runStartSchema } from './run-start-schema.js'
import type { ProxyControl } from '../slots/proxy-control.js'
import { buildRunContext } from '../run/run-context.js'
import type { UpgradeReport } from '../run/run-upgrade.js'
import { STRICT_PHASES } from '../run/strict-phases.js'
import { NoUnfinishedRunError, PastPointOfNoReturnError, runPosition, type RunPosition } from './unfinished-run.js'
import type { Phase, UpgradeContext } from '../run/upgrade-context.js'

/**
 * What to do with the unfinished run: `resume` goes forward (or finishes a rollback the dead
 * process had begun), `rollback` undoes before the point of no return and goes forward past it
 * (saying so), `abort` undoes and refuses past the point of no return.
 */
export type Steering = 'resume' | 'rollback' | 'abort'

export interface SteerRequest {
  config: HandoverConfig
  steering: Steering
  proxy: ProxyControl
  bus: EventBus
  note: (message: string) => void
  docker?: DockerRuntime
  phases?: readonly Phase[]
}

/**
 * Takes over the service's unfinished run from the journal, under the service lock: a run
 * whose process still lives holds that lock (GET_LOCK on a live connection), so it is
 * refused (LOCK_HELD) instead of being run twice. Steps are appended to the same run.
 */
export async function steerUnfinishedRun(request: SteerRequest): Promise<UpgradeReport> {
  const docker = request.docker ?? new DockerRuntime()
  return withServiceLock(request.config, (db) => steerLocked(request, docker, db))
}

async function steerLocked(request: SteerRequest, docker: DockerRuntime, db: Connection): Promise<UpgradeReport> {
  const { config, bus } = request
  const phases = request.phases ?? STRICT_PHASES
  const journal = new Journal(db, config.database.journalSchema)
  const run = await journal.unfinishedRun(config.service.name)
  if (!run) throw new NoUnfinishedRunError(config.service.name)
  if (request.steering === 'abort' && run.pointOfNoReturnPassed) throw new PastPointOfNoReturnError(run.id)
  const position = runPosition(phases, await journal.steps(run.id))
  bus.subscribe(journalRecorder(journal), { required: true })
  const context = buildRunContext(request, docker, db, journal, await runFacts(db, config, journal, run))
  // The preflight's rehearsal, kept with the run: it cannot be made again on a half-changed schema.
  context.migrations.useAlgorithms(await new RunAlgorithmTable(db, config.database.journalSchema).load(run.id))
  const began = performance.now()
  await bus.emit({ type: 'run-started', service: config.service.name, runId: run.id, fromVersion: run.fromVersion, toVersion: run.toVersion, mode: 'strict' })
  const outcome = await continueRun(request, phases, context, position, bus)
  await journal.finishRun(run.id, outcome.result, outcome.error)
  await bus.emit({ type: 'run-finished', service: config.service.name, runId: run.id, result: outcome.result, durationSeconds: (performance.now() - began) / 1000 })
  return { ...outcome, runId: run.id, from: context.from, to: context.to }
}

function continueRun(request: SteerRequest, phases: readonly Phase[], context: UpgradeContext, position: RunPosition, bus: EventBus): Promise<RunOutcome> {
  const where = `run ${context.runId} stopped in ${position.stoppedIn}`
  const undo = !context.pointOfNoReturnPassed && (request.steering !== 'resume' || position.rollingBack)
  if (undo) {
    const why = request.steering === 'abort' ? 'abort' : request.steering === 'rollback' ? '--rollback was given' : 'its process had begun rolling back'
    request.note(`${where}, before the point of no return: undoing ${[...position.started].reverse().map((phase) => phase.name).join(', ') || 'nothing'}, in this order (${why})`)
    return undoPhases(position.started, context, bus)
  }
  const why = context.pointOfNoReturnPassed
    ? 'past the point of no return v2 has served, so the run can only go forward'
    : 'before the point of no return; forward is the default (`handover resume --rollback` or `handover abort` undoes instead)'
  request.note(`${where}: going forward from ${phases[position.next]?.name ?? 'the end'} (${why})`)
  return runPhases(phases, context, bus, { from: position.next, started: position.started })
}

/**
 * The run's identity, read back from its journal; the scripts are planned again between its
 * versions, classified against the schema the run started from so each statement lands in the
 * part it had.
 */
export async function runFacts(db: Connection, config: HandoverConfig, journal: Journal, run: RunRecord) {
  const standby = run.standbySlot as SlotName
  const start = await runStartSchema(db, config, run.id, await journal.facts.ofRun(run.id, config.service.name))
  const versions = config.migrations.versions
  const steps = await planScripts(db, config, parseVersion(run.fromVersion, `run ${run.id} from_version`, versions), parseVersion(run.toVersion, `run ${run.id} to_version`, versions), start)
  return {
    runId: run.id,
    standby,
    active: otherSlot(standby),
    from: { image: run.fromImage, version: run.fromVersion },
    to: { image: run.toImage, version: run.toVersion },
    scripts: steps.map((step) => step.script),
    pointOfNoReturnPassed: run.pointOfNoReturnPassed,
  }
}
