import { SLOT_NAMES, type SlotName } from '../../config/config.js'
import { loadConfig } from '../../config/load-config.js'
import { connect } from '../../db/connection.js'
import { Journal } from '../../db/journal.js'
import { formatVersion } from '../../db/version.js'
import { readSchemaVersion } from '../../db/version-table.js'
import { errorMessage } from '../../errors.js'
import { AdminClient } from '../../protocol/admin-client.js'
import { DockerRuntime } from '../../runtime/docker-runtime.js'
import { answeredVersion, slotUrl } from '../../upgrade/slot-health.js'
import { parseOptions, requireOption, type Command, type Output } from '../command.js'
import type { HandoverConfig } from '../../config/config.js'

export const statusCommand: Command = {
  usage: `handover status --config FILE`,
  async run(args, output) {
    const values = parseOptions('status', args, { config: { type: 'string' } })
    const config = loadConfig(requireOption('status', 'config', values.config))
    output.out(`service ${config.service.name}, proxy ${config.proxy.listen.host}:${config.proxy.listen.port}`)
    await printSlots(config, output)
    await printDatabase(config, output)
    return 0
  },
}

async function printSlots(config: HandoverConfig, output: Output): Promise<void> {
  const docker = new DockerRuntime()
  const route = await new AdminClient(config.agent.socket).getService(config.service.name).catch((error: unknown) => {
    output.out(`  proxy: ${errorMessage(error)}`)
    return undefined
  })
  if (route) output.out(`  proxy: ${route.buffered} requests held in the buffer`)
  for (const slot of SLOT_NAMES) {
    const container = await docker.inspectSlot(config.service.name, slot)
    const state = route ? `${route.slots[slot].state}, ${route.slots[slot].inFlight} in flight` : 'unknown'
    const runtime = container ? `${container.image} ${container.running ? 'running' : `stopped (exit ${container.exitCode})`}` : 'no container'
    const version = container?.running ? `, answers version ${await slotVersion(config, slot)}` : ''
    output.out(`  ${slot.padEnd(6)} port ${config.service.slots[slot].port}  proxy: ${state}  container: ${runtime}${version}`)
  }
}

async function slotVersion(config: HandoverConfig, slot: SlotName): Promise<string> {
  return answeredVersion(slotUrl(config, slot, config.service.versionPath), 1000).catch(() => '(no answer)')
}

async function printDatabase(config: HandoverConfig, output: Output): Promise<void> {
  const db = await connect(config.database)
  try {
    output.out(`  schema ${config.database.schema}: version ${formatVersion(await readSchemaVersion(db, config.database))}`)
    await Journal.ensureTables(db, config.database.journalSchema)
    const journal = new Journal(db, config.database.journalSchema)
    const run = await journal.lastRun(config.service.name)
    if (!run) {
      output.out('  last run: none')
      return
    }
    output.out(`  last run ${run.id}: ${run.fromVersion} → ${run.toVersion} ${run.state}, started ${run.startedAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}`)
    output.out(`    point of no return: ${run.pointOfNoReturnPassed ? 'passed' : 'not passed'}`)
    if (run.errorMessage) output.out(`    error: [${run.errorCode}] ${run.errorMessage}`)
    for (const step of await journal.steps(run.id)) {
      const duration = step.durationMs === null ? '' : `${(step.durationMs / 1000).toFixed(2)}s`
      output.out(`    ${step.action === 'undo' ? 'undo ' : ''}${step.phase.padEnd(18)} ${step.status.padEnd(10)} ${duration}`)
    }
  } finally {
    await db.end()
  }
}
