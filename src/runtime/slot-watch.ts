/**
 * Notices a slot's container crashing while handover waits for it to become healthy. Its
 * restart policy starts a crashed container again at once, so "is it running?" mostly
 * answers yes during a crash loop and the wait would last the whole health timeout; a
 * restart count above the one seen when the wait began is the crash.
 */
import type { SlotName } from '../protocol/routes.js'
import { HandoverError } from '../errors.js'
import { containerName, type DockerRuntime } from './docker-runtime.js'

export class SlotCrashedError extends HandoverError {
  readonly code = 'SLOT_CRASHED'

  constructor(
    readonly container: string,
    readonly exitCode: number,
    readonly restarts: number,
    readonly logTail: string,
  ) {
    const how = restarts > 0 ? `exited with code ${exitCode} and was restarted ${restarts} time${restarts === 1 ? '' : 's'}` : `exited with code ${exitCode}`
    super(`container ${container} ${how} before it became healthy; fix the image or its env (docker logs ${container})${logTail ? `\n--- last log lines ---\n${logTail}` : ''}`)
  }
}

export class SlotVanishedError extends HandoverError {
  readonly code = 'SLOT_VANISHED'

  constructor(readonly container: string) {
    super(`container ${container} disappeared while handover waited for it; something else removed it`)
  }
}

/** Takes the container's restart count now; the returned check throws once it has exited or restarted since. */
export async function watchForCrash(docker: DockerRuntime, service: string, slot: SlotName, signal?: AbortSignal): Promise<() => Promise<void>> {
  const name = containerName(service, slot)
  const first = await docker.inspectSlot(service, slot, signal)
  if (!first) throw new SlotVanishedError(name)
  const check = async (): Promise<void> => {
    const now = await docker.inspectSlot(service, slot, signal)
    if (!now) throw new SlotVanishedError(name)
    if (now.running && !now.restarting && now.restartCount === first.restartCount) return
    throw new SlotCrashedError(name, now.exitCode, now.restartCount - first.restartCount, await docker.logTail(service, slot))
  }
  await check()
  return check
}
