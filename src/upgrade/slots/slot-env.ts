import type { HandoverConfig, SlotName } from '../../config/config.js'
import { resolveSecret } from '../../config/secrets.js'
import type { SlotSpec } from '../../runtime/docker-runtime.js'

/** The env of a slot's container: the configured values, resolved secrets, and its port. */
export function slotEnv(config: HandoverConfig, slot: SlotName): Record<string, string> {
  const env: Record<string, string> = { ...config.service.env }
  for (const [name, source] of Object.entries(config.service.secretEnv)) {
    env[name] = resolveSecret(source, `service.secretEnv.${name}`)
  }
  env.PORT = String(config.service.slots[slot].port)
  env.HANDOVER_SLOT = slot
  return env
}

/** What a slot's container runs: `image`, with the slot's env (secrets resolved now). */
export function slotSpec(config: HandoverConfig, slot: SlotName, image: string): SlotSpec {
  return { service: config.service.name, slot, image, env: slotEnv(config, slot), stopTimeoutSeconds: config.service.stopTimeoutSeconds }
}
