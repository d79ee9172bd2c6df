import t from 'tap'
import { InvalidInputError } from '../../../src/errors.js'
import { parseServiceRoute } from '../../../src/proxy/routing/route-schema.js'

const good = {
  listen: { host: '0.0.0.0', port: 8080 },
  slots: { blue: { host: '127.0.0.1', port: 9001, state: 'active' }, green: { host: '127.0.0.1', port: 9002, state: 'disabled' } },
  buffer: { maxRequests: 500, maxWaitSeconds: 30 },
}

function problem(body: unknown, pathName?: string): string {
  try {
    parseServiceRoute(body, 'body', pathName)
  } catch (error) {
    if (error instanceof InvalidInputError) return error.message
    throw error
  }
  return 'accepted'
}

t.test('a good body becomes a route named by the path', async (t) => {
  const defaults = { buffer: { ...good.buffer, maxBytes: 64 * 1024 * 1024 }, drainTimeoutSeconds: 30 }
  t.same(parseServiceRoute(good, 'body', 'shop'), { name: 'shop', ...good, ...defaults }, 'fields added later get defaults, so older bodies stay valid')
  t.same(parseServiceRoute({ ...good, name: 'shop' }, 'body', 'shop').name, 'shop')
})

t.test('each bad field is named', async (t) => {
  const slot = (patch: object) => ({ ...good, slots: { ...good.slots, blue: { ...good.slots.blue, ...patch } } })
  t.equal(problem(slot({ port: 70000 }), 'shop'), 'body.slots.blue.port: must be an integer 1-65535')
  t.equal(problem(slot({ port: 80.5 }), 'shop'), 'body.slots.blue.port: must be an integer 1-65535')
  t.match(problem(slot({ state: 'on' }), 'shop'), /^body\.slots\.blue\.state: must be one of: active, draining/)
  t.match(problem(slot({ host: 'not a host!' }), 'shop'), /^body\.slots\.blue\.host:/)
  t.match(problem({ ...good, slots: { blue: good.slots.blue } }, 'shop'), /^body\.slots\.green: must be a JSON object/)
  t.match(problem({ ...good, buffer: { maxRequests: -1, maxWaitSeconds: 1 } }, 'shop'), /^body\.buffer\.maxRequests:/)
  t.match(problem({ ...good, buffer: { maxRequests: 1 } }, 'shop'), /^body\.buffer\.maxWaitSeconds:/)
  t.match(problem({ ...good, lsiten: {} }, 'shop'), /^body\.lsiten: unknown field/)
  t.match(problem({ ...good, name: 'other' }, 'shop'), /^body\.name: must be omitted or equal/)
  t.match(problem(good, 'bad name'), /^path\.name:/)
  t.match(problem([], 'shop'), /^body: must be a JSON object/)
  t.match(problem(good), /^body\.name:/, 'without a path the body must name the service')
})

t.test('buffer bytes, health check and drain timeout: defaults and named errors', async (t) => {
  const health = parseServiceRoute({ ...good, health: { path: '/healthz' }, drainTimeoutSeconds: 5, buffer: { ...good.buffer, maxBytes: 1000 } }, 'body', 'shop')
  t.same(health.health, { path: '/healthz', intervalSeconds: 5, timeoutSeconds: 2, unhealthyThreshold: 2, healthyThreshold: 2 })
  t.equal(health.drainTimeoutSeconds, 5)
  t.equal(health.buffer.maxBytes, 1000)
  t.match(problem({ ...good, buffer: { ...good.buffer, maxBytes: -5 } }, 'shop'), /^body\.buffer\.maxBytes: must be an integer/)
  t.match(problem({ ...good, buffer: { ...good.buffer, maxBytes: 1.5 } }, 'shop'), /^body\.buffer\.maxBytes:/)
  t.match(problem({ ...good, health: {} }, 'shop'), /^body\.health\.path:/)
  t.match(problem({ ...good, health: { path: 'healthz' } }, 'shop'), /^body\.health\.path: must start with "\/"/)
  t.match(problem({ ...good, health: { path: '/a b' } }, 'shop'), /^body\.health\.path:/)
  t.match(problem({ ...good, health: { path: '/h', intervalSeconds: 0 } }, 'shop'), /^body\.health\.intervalSeconds:/)
  t.match(problem({ ...good, health: { path: '/h', intervalSeconds: 1, timeoutSeconds: 2 } }, 'shop'), /^body\.health\.timeoutSeconds: must not exceed intervalSeconds/)
  t.match(problem({ ...good, health: { path: '/h', unhealthyThreshold: 0 } }, 'shop'), /^body\.health\.unhealthyThreshold:/)
  t.match(problem({ ...good, health: { path: '/h', every: 3 } }, 'shop'), /^body\.health\.every: unknown field/)
  t.match(problem({ ...good, drainTimeoutSeconds: -1 }, 'shop'), /^body\.drainTimeoutSeconds:/)
})

t.test('trusted forwarders: addresses and CIDR blocks kept as given, anything else named by its index', async (t) => {
  const list = ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::1']
  t.same(parseServiceRoute({ ...good, trustedForwarders: list }, 'body', 'shop').trustedForwarders, list)
  t.equal(parseServiceRoute(good, 'body', 'shop').trustedForwarders, undefined, 'none unless listed')
  t.match(problem({ ...good, trustedForwarders: '10.0.0.0/8' }, 'shop'), /^body\.trustedForwarders: must be a list/)
  for (const bad of ['10.0.0.0/33', '10.0.0/8', 'lb.internal', '10.0.0.1/8/2', '::/129', '10.0.0.0/', '10.0.0.0/+8', 'fe80::1%eth0', 7]) {
    t.match(problem({ ...good, trustedForwarders: ['127.0.0.1', bad] }, 'shop'), /^body\.trustedForwarders\[1\]: must be an IP address or a CIDR block/, String(bad))
  }
})
