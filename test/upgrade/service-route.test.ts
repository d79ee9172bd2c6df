import t from 'tap'
import { loadConfig } from '../../src/config/load-config.js'
import { parseServiceRoute } from '../../src/proxy/routing/route-schema.js'
import type { ServiceStatus } from '../../src/protocol/routes.js'
import { routeFor, routeWithSettings } from '../../src/upgrade/slots/service-route.js'

const config = loadConfig(new URL('../../deploy/demo/handover.yaml', import.meta.url).pathname)

t.test("an upgrade sends the config's proxy settings and keeps the agent's listen address, slots and states", async (t) => {
  const deployed = routeFor(config)
  // What the agent reports in the middle of a run, with settings from an older config.
  const current: ServiceStatus = {
    ...deployed,
    listen: { host: '127.0.0.1', port: 28080 },
    slots: {
      blue: { host: '127.0.0.1', port: 28081, state: 'active', inFlight: 3, tunnels: 1, healthy: true },
      green: { host: '127.0.0.1', port: 28082, state: 'disabled', inFlight: 0, tunnels: 0, healthy: false },
    },
    buffer: { maxRequests: 5, maxWaitSeconds: 1 },
    drainTimeoutSeconds: 5,
    buffered: 0,
  }
  const changed = { ...config, proxy: { ...config.proxy, trustedForwarders: ['10.0.4.17'], drainTimeoutSeconds: 45 } }
  const route = routeWithSettings(changed, current)
  t.same(route.listen, current.listen)
  t.same(route.slots, { blue: { host: '127.0.0.1', port: 28081, state: 'active' }, green: { host: '127.0.0.1', port: 28082, state: 'disabled' } }, 'live counts left out')
  t.same([route.buffer, route.drainTimeoutSeconds, route.trustedForwarders, route.health], [config.proxy.buffer, 45, ['10.0.4.17'], deployed.health])
  t.same(parseServiceRoute(JSON.parse(JSON.stringify(route)), 'body', config.service.name), route, 'the agent takes it as it is')
})
