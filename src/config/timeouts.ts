/**
 * The `timeouts:` section: one bound per phase, all in one place. A phase past its bound is
 * cancelled (its Docker calls, probes and SQL are aborted) and, once it has stopped, undone.
 * Defaults follow the settings a phase waits on, so raising proxy.drainTimeoutSeconds or
 * service.health.timeoutSeconds does not silently cut the phase that waits for them.
 */
import { PHASE_NAMES, type PhaseName } from '../protocol/phases.js'
import type { ProxyConfig, ServiceConfig, TimeoutsConfig } from './config.js'
import type { FieldReader } from './field-reader.js'

const MAX_PHASE_SECONDS = 7 * 24 * 3600
const DEFAULT_CANCEL_GRACE_SECONDS = 30

/** What a phase must be allowed to wait for at least, and the default bound. */
function floors(service: ServiceConfig, proxy: ProxyConfig): Record<PhaseName, { min: number; because: string; fallback: number }> {
  const none = (fallback: number) => ({ min: 1, because: '', fallback })
  const drain = proxy.drainTimeoutSeconds
  const health = service.healthTimeoutSeconds
  const stop = service.stopTimeoutSeconds
  return {
    preflight: none(60),
    backup: none(3600),
    'disable-standby': { min: drain + 1, because: `it waits up to proxy.drainTimeoutSeconds (${drain}s) for the drain`, fallback: drain + 30 },
    'upgrade-standby': { min: health + 1, because: `it waits up to service.health.timeoutSeconds (${health}s) for the new container`, fallback: stop + health + 60 },
    expand: none(3600),
    flip: { min: drain + stop + 1, because: `it drains (up to ${drain}s) and then stops the old slot (up to ${stop}s)`, fallback: drain + stop + 30 },
    contract: none(3600),
    'upgrade-old': { min: health + 1, because: `it waits up to service.health.timeoutSeconds (${health}s) for the new container`, fallback: health + 60 },
    verify: none(120),
    finalize: none(60),
  }
}

export function readTimeouts(read: FieldReader, service: ServiceConfig, proxy: ProxyConfig): TimeoutsConfig {
  read.keys(['timeouts'], [...PHASE_NAMES, 'cancelGraceSeconds'])
  const bounds = floors(service, proxy)
  const phases = {} as Record<PhaseName, number>
  for (const phase of PHASE_NAMES) {
    const { min, because, fallback } = bounds[phase]
    const seconds = read.int(['timeouts', phase], 1, MAX_PHASE_SECONDS, fallback)
    if (seconds < min) read.fail(['timeouts', phase], `must be at least ${min}: ${because}`)
    phases[phase] = seconds
  }
  // A flip cancelled while it stops the old slot settles only once the stop has (stops cannot be called back).
  const stop = service.stopTimeoutSeconds
  const grace = read.int(['timeouts', 'cancelGraceSeconds'], 1, 3600, Math.max(DEFAULT_CANCEL_GRACE_SECONDS, stop + 10))
  if (grace <= stop) read.fail(['timeouts', 'cancelGraceSeconds'], `must be more than service.stopTimeoutSeconds (${stop}): a flip cancelled while it stops the old slot stops only when that stop ends`)
  return { phases, cancelGraceSeconds: grace }
}
