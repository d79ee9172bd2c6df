import type { HandoverConfig, SlotName } from '../../config/config.js'
import { HandoverError } from '../../errors.js'
import { httpGet, waitHealthy } from '../../runtime/http-probe.js'
import { VERSION_LABEL, type DockerRuntime } from '../../runtime/docker-runtime.js'
import { watchForCrash } from '../../runtime/slot-watch.js'
import { slotSpec } from './slot-env.js'
import type { UpgradeContext } from '../run/upgrade-context.js'

export class WrongVersionError extends HandoverError {
  readonly code = 'WRONG_VERSION'

  constructor(
    readonly where: string,
    readonly expected: string,
    readonly answered: string,
  ) {
    super(`${where} reports version ${answered}, expected ${expected}; check the image's ${VERSION_LABEL} label and the app's version endpoint`)
  }
}

export function slotUrl(config: HandoverConfig, slot: SlotName, path: string): string {
  return `http://127.0.0.1:${config.service.slots[slot].port}${path}`
}

/** Waits for the slot's health endpoint; a container that exits or restarts meanwhile fails it at once (SLOT_CRASHED). */
export async function waitSlotHealthy(docker: DockerRuntime, config: HandoverConfig, slot: SlotName, signal?: AbortSignal): Promise<void> {
  const { service } = config
  await waitHealthy({
    url: slotUrl(config, slot, service.healthPath),
    timeoutSeconds: service.healthTimeoutSeconds,
    checkAlive: await watchForCrash(docker, service.name, slot, signal),
    logTail: () => docker.logTail(service.name, slot),
    ...(signal ? { signal } : {}),
  })
}

/** The version a version endpoint names, or what it answered instead (`(status 503)`, a body excerpt). */
export async function answeredVersion(url: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const answer = await httpGet(url, timeoutMs, signal)
  if (answer.status !== 200) return `(status ${answer.status})`
  try {
    return String((JSON.parse(answer.body) as { version?: unknown }).version)
  } catch {
    return answer.body.trim().slice(0, 40)
  }
}

/** Asks the version endpoint at `url` and checks it names `expected`. */
export async function expectVersion(url: string, expected: string, signal?: AbortSignal): Promise<void> {
  const version = await answeredVersion(url, 5000, signal)
  if (version !== expected) throw new WrongVersionError(url, expected, version)
}

/** Asks `slot`'s own version endpoint and checks it names `expected`. */
export async function expectSlotVersion(config: HandoverConfig, slot: SlotName, expected: string, signal?: AbortSignal): Promise<void> {
  await expectVersion(slotUrl(config, slot, config.service.versionPath), expected, signal)
}

/** Recreates a slot's container on `image` and waits until it is healthy. */
export async function runSlotOn(context: UpgradeContext, slot: SlotName, image: string, signal?: AbortSignal): Promise<void> {
  await context.docker.runSlot(slotSpec(context.config, slot, image), signal)
  await waitSlotHealthy(context.docker, context.config, slot, signal)
}

/**
 * Whether `slot` already runs `image` and answers `version`: a phase run again after a
 * crash skips recreating a container that an earlier, cut-off run brought up already.
 */
export async function slotAlreadyServes(context: UpgradeContext, slot: SlotName, image: string, version: string, signal?: AbortSignal): Promise<boolean> {
  const container = await context.docker.inspectSlot(context.config.service.name, slot, signal)
  if (!container?.running || container.image !== image) return false
  const answered = await answeredVersion(slotUrl(context.config, slot, context.config.service.versionPath), 2000, signal).catch(() => undefined)
  return answered === version
}
