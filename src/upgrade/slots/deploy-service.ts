import { SLOT_NAMES, type HandoverConfig } from '../../config/config.js'
import { quoteName, type Connection } from '../../db/connection.js'
import { withServiceLock } from '../../db/journal/locked-session.js'
import { serviceExecutor } from '../../db/migrations/service-executor.js'
import { compareVersions, formatVersion, parseVersion } from '../../db/migrations/versions/version.js'
import { readSchemaVersion, writeSchemaVersion } from '../../db/migrations/versions/version-table.js'
import { HandoverError } from '../../errors.js'
import { DockerRuntime } from '../../runtime/docker-runtime.js'
import type { ProxyControl } from './proxy-control.js'
import { planScripts } from '../planning/plan-upgrade.js'
import { slotSpec } from './slot-env.js'
import { expectSlotVersion, waitSlotHealthy } from './slot-health.js'
import { resolveTarget } from '../planning/target-release.js'
import { routeFor } from './service-route.js'

export class AlreadyDeployedError extends HandoverError {
  readonly code = 'ALREADY_DEPLOYED'
}

export interface DeployRequest {
  config: HandoverConfig
  image: string
  version?: string
  proxy: ProxyControl
  note: (message: string) => void
  docker?: DockerRuntime
}

/**
 * Brings a service up from nothing: installs the schema up to the image's version (nothing
 * serves yet, so expand and contract run back to back), starts both slots, registers routes.
 */
export async function deployService(request: DeployRequest): Promise<{ version: string }> {
  const { config } = request
  const docker = request.docker ?? new DockerRuntime()
  const { version } = await resolveTarget(docker, request.image, request.version)
  for (const slot of SLOT_NAMES) {
    if (await docker.inspectSlot(config.service.name, slot)) {
      throw new AlreadyDeployedError(`service ${config.service.name} already has a ${slot} container; use \`handover upgrade\` to change its version`)
    }
  }
  await withServiceLock(config, async (db) => {
    await installSchema(db, config, version, request.note)
    await startSlots(docker, request, version)
    await request.proxy.putService(routeFor(config))
    request.note(`routes registered: ${config.proxy.listen.host}:${config.proxy.listen.port} → blue, green`)
  })
  return { version }
}

async function installSchema(db: Connection, config: HandoverConfig, version: string, note: (message: string) => void): Promise<void> {
  const current = await readSchemaVersion(db, config.database, config.migrations.versions)
  const target = parseVersion(version, '--version', config.migrations.versions)
  if (compareVersions(current, target) >= 0) {
    note(`schema ${config.database.schema} already at ${formatVersion(current)}`)
    return
  }
  await db.query(`CREATE DATABASE IF NOT EXISTS ${quoteName(config.database.schema)}`)
  const scripts = (await planScripts(db, config, current, target)).map((step) => step.script)
  const executor = serviceExecutor(db, config.database, config.service.name, 'deploy')
  for (const script of scripts) {
    await executor.applyPart([script], 'expand')
    await executor.applyPart([script], 'contract')
  }
  await writeSchemaVersion(db, config.database, version)
  note(`schema ${config.database.schema}: ${formatVersion(current)} → ${version} (${scripts.map((s) => s.name).join(', ') || 'no scripts'})`)
}

async function startSlots(docker: DockerRuntime, request: DeployRequest, version: string): Promise<void> {
  const { config } = request
  for (const slot of SLOT_NAMES) {
    await docker.runSlot(slotSpec(config, slot, request.image))
  }
  for (const slot of SLOT_NAMES) {
    await waitSlotHealthy(docker, config, slot)
    await expectSlotVersion(config, slot, version)
    request.note(`slot ${slot} healthy on 127.0.0.1:${config.service.slots[slot].port}, version ${version}`)
  }
}

