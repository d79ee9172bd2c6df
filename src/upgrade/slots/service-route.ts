/**
 * The route the agent gets for a service. Deploy registers it whole from the config. An
 * upgrade brings the proxy settings (buffer limits, health check, drain timeout, trusted
 * forwarders, client limits) up to the config, but keeps the listen address, the slots'
 * addresses and their states as the agent has them: moving those in the middle of an upgrade would cut
 * traffic, not change a setting.
 */
import type { HandoverConfig } from '../../config/config.js'
import type { ServiceRoute, SlotRoute } from '../../protocol/routes.js'

export function routeFor(config: HandoverConfig): ServiceRoute {
  const slot = (port: number) => ({ host: '127.0.0.1', port, state: 'active' as const })
  return {
    name: config.service.name,
    listen: config.proxy.listen,
    slots: { blue: slot(config.service.slots.blue.port), green: slot(config.service.slots.green.port) },
    buffer: config.proxy.buffer,
    // Active checks of the same endpoint deploy and upgrade wait on; thresholds are the agent's.
    health: { path: config.service.healthPath, intervalSeconds: 2, timeoutSeconds: 1, unhealthyThreshold: 3, healthyThreshold: 2 },
    drainTimeoutSeconds: config.proxy.drainTimeoutSeconds,
    trustedForwarders: config.proxy.trustedForwarders,
    limits: config.proxy.limits,
  }
}

/** The config's proxy settings over `current`, the agent's route (or its status, whose live counts are left out). */
export function routeWithSettings(config: HandoverConfig, current: ServiceRoute): ServiceRoute {
  const slot = ({ host, port, state }: SlotRoute): SlotRoute => ({ host, port, state })
  return { ...routeFor(config), listen: current.listen, slots: { blue: slot(current.slots.blue), green: slot(current.slots.green) } }
}
