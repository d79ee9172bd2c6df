/**
 * What the admin API can do, one entry per endpoint: method, path, and a handler that
 * validates its input and calls the router. The HTTP plumbing is in admin-api.ts.
 */
import type { UpgradeMetrics } from '../../metrics/upgrade-metrics.js'
import { parseUpgradeEvent } from '../../protocol/event-schema.js'
import { parseRunLease } from '../../protocol/run-leases.js'
import type { RunSupervisor } from '../../supervisor/run-supervisor.js'
import { parseServiceRoute } from '../routing/route-schema.js'
import type { Router } from '../routing/router.js'
import { SLOT_NAMES, SLOT_STATES, type SlotName } from '../../protocol/routes.js'
import * as v from '../../protocol/validate.js'

export interface Endpoint {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE'
  path: RegExp
  /** `params` are the decoded path captures; `body` is parsed JSON or undefined when empty. */
  run(params: string[], body: unknown): Promise<unknown>
}

const MAX_DRAIN_WAIT_SECONDS = 3600
const DEFAULT_DRAIN_WAIT_SECONDS = 30

export function adminEndpoints(router: Router, upgrades: UpgradeMetrics, runs: RunSupervisor): Endpoint[] {
  return [
    { method: 'GET', path: /^\/v1\/health$/, run: async () => ({ ok: true }) },
    { method: 'GET', path: /^\/v1\/services$/, run: async () => ({ services: router.list() }) },
    { method: 'GET', path: /^\/v1\/services\/([^/]+)$/, run: async ([name]) => router.get(serviceName(name)) },
    {
      method: 'PUT',
      path: /^\/v1\/services\/([^/]+)$/,
      run: async ([name], body) => router.put(parseServiceRoute(body, 'body', serviceName(name))),
    },
    {
      method: 'DELETE',
      path: /^\/v1\/services\/([^/]+)$/,
      run: async ([name]) => {
        await router.remove(serviceName(name))
        return { deleted: name }
      },
    },
    {
      method: 'PUT',
      path: /^\/v1\/services\/([^/]+)\/slots\/([^/]+)\/state$/,
      run: async ([name, slot], body) => {
        const state = v.oneOf(v.object(body, 'body', ['state']).state, 'body.state', SLOT_STATES)
        return router.setSlotState(serviceName(name), slotName(slot), state)
      },
    },
    { method: 'POST', path: /^\/v1\/services\/([^/]+)\/flip$/, run: async ([name], body) => router.flip(serviceName(name), toSlot(body)) },
    { method: 'POST', path: /^\/v1\/services\/([^/]+)\/release$/, run: async ([name], body) => router.release(serviceName(name), toSlot(body)) },
    {
      method: 'POST',
      path: /^\/v1\/services\/([^/]+)\/slots\/([^/]+)\/wait-drained$/,
      run: async ([name, slot], body) => {
        const fields = v.object(body ?? {}, 'body', ['timeoutSeconds'])
        const seconds =
          fields.timeoutSeconds === undefined
            ? DEFAULT_DRAIN_WAIT_SECONDS
            : v.finite(fields.timeoutSeconds, 'body.timeoutSeconds', 0, MAX_DRAIN_WAIT_SECONDS)
        return router.waitDrained(serviceName(name), slotName(slot), seconds * 1000)
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/events$/,
      run: async (_params, body) => {
        upgrades.record(parseUpgradeEvent(body, 'body'))
        return { ok: true }
      },
    },
    { method: 'GET', path: /^\/v1\/runs$/, run: async () => ({ runs: runs.list() }) },
    { method: 'PUT', path: /^\/v1\/runs\/([^/]+)$/, run: async ([runId], body) => runs.renew(parseRunLease(body, 'body', runId)) },
    { method: 'DELETE', path: /^\/v1\/runs\/([^/]+)$/, run: async ([runId]) => ({ deleted: await runs.finish(v.name(runId, 'path.runId')) }) },
  ]
}

function serviceName(value: string | undefined): string {
  return v.name(value, 'path.name')
}

function slotName(value: string | undefined): SlotName {
  return v.oneOf(value, 'path.slot', SLOT_NAMES)
}

function toSlot(body: unknown): SlotName {
  return v.oneOf(v.object(body, 'body', ['to']).to, 'body.to', SLOT_NAMES)
}
