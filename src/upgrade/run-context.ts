import type { HandoverConfig } from '../config/config.js'
import type { Connection } from '../db/connection.js'
import type { Journal } from '../db/journal/journal.js'
import { RunAlgorithmTable } from '../db/journal/run-algorithms.js'
import { serviceExecutor } from '../db/migrations/service-executor.js'
import type { DockerRuntime } from '../runtime/docker-runtime.js'
import type { ProxyControl } from './proxy-control.js'
import type { UpgradeContext } from './upgrade-context.js'

/** What identifies one run: gathered by a new upgrade, or read back from the journal by a resume. */
export type RunFacts = Pick<UpgradeContext, 'runId' | 'standby' | 'active' | 'from' | 'to' | 'scripts'> & {
  /** A resumed run starts on the side of the point of no return its journal row records. */
  pointOfNoReturnPassed?: boolean
}

export interface RunServices {
  config: HandoverConfig
  proxy: ProxyControl
  note: (message: string) => void
}

/** The context every phase of a run gets; the point-of-no-return mark goes to the journal first. */
export function buildRunContext(services: RunServices, docker: DockerRuntime, db: Connection, journal: Journal, facts: RunFacts): UpgradeContext {
  const { config } = services
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
    note: services.note,
  }
  return context
}
