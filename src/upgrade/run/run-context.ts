import type { HandoverConfig } from '../../config/config.js'
import type { Connection } from '../../db/connection.js'
import type { Journal } from '../../db/journal/journal.js'
import { RunAlgorithmTable } from '../../db/journal/run-algorithms.js'
import { serviceExecutor } from '../../db/migrations/service-executor.js'
import type { DockerRuntime } from '../../runtime/docker-runtime.js'
import type { UpgradeFactReport } from '../../protocol/events.js'
import type { EventBus } from '../reporting/event-bus.js'
import type { ProxyControl } from '../slots/proxy-control.js'
import type { UpgradeContext } from './upgrade-context.js'

/** What identifies one run: gathered by a new upgrade, or read back from the journal by a resume. */
export type RunFacts = Pick<UpgradeContext, 'runId' | 'standby' | 'active' | 'from' | 'to' | 'scripts'> & {
  /** A resumed run starts on the side of the point of no return its journal row records. */
  pointOfNoReturnPassed?: boolean
}

export interface RunServices {
  config: HandoverConfig
  proxy: ProxyControl
  bus: EventBus
}

/** The context every phase of a run gets; the point-of-no-return mark goes to the journal first. */
export function buildRunContext(services: RunServices, docker: DockerRuntime, db: Connection, journal: Journal, facts: RunFacts): UpgradeContext {
  const { config } = services
  const reports = factReporter(services.bus, config.service.name, facts.runId)
  const context: UpgradeContext = {
    config,
    runId: facts.runId,
    standby: facts.standby,
    active: facts.active,
    from: facts.from,
    to: facts.to,
    scripts: facts.scripts,
    docker,
    proxy: services.proxy,
    db,
    migrations: serviceExecutor(db, config.database, config.service.name, facts.runId, config.migrations.backfill),
    pointOfNoReturnPassed: facts.pointOfNoReturnPassed ?? false,
    async markPointOfNoReturn(passed) {
      await journal.markPointOfNoReturn(facts.runId, passed)
      context.pointOfNoReturnPassed = passed
    },
    async rememberAlgorithms(rehearsed) {
      context.migrations.useAlgorithms(rehearsed)
      await new RunAlgorithmTable(db, config.database.journalSchema).save(facts.runId, rehearsed)
    },
    report: reports.report,
    settleReports: reports.settle,
  }
  return context
}

/** Emits facts one after another in the order reported; the first failure is kept for settle(). */
function factReporter(bus: EventBus, service: string, runId: string): { report(fact: UpgradeFactReport): void; settle(): Promise<void> } {
  let pending: Promise<void> = Promise.resolve()
  let failure: { error: unknown } | undefined
  return {
    report(fact) {
      // The spread keeps the fact's own type; service and runId complete it as an event.
      const event = { ...fact, service, runId } as Parameters<EventBus['emit']>[0]
      pending = pending.then(() => bus.emit(event)).catch((error: unknown) => void (failure ??= { error }))
    },
    async settle() {
      await pending
      if (failure === undefined) return
      const { error } = failure
      failure = undefined
      throw error
    },
  }
}
