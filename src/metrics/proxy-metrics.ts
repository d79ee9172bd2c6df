/**
 * The proxy's Prometheus series. Per-request work is one counter increment and one histogram
 * observation on label-bound children cached here; gauges (in-flight, buffered, slot state)
 * are read from the router only when Prometheus scrapes, so the request path never touches them.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { SLOT_STATES } from '../protocol/routes.js'
import { HotCounter, HotHistogram, type CounterChild, type HistogramChild } from './hot-path-metrics.js'

export type RejectReason = 'full' | 'bytes' | 'timeout' | 'shutdown'

export interface SlotSnapshot {
  slot: string
  state: string
  /** Requests in flight plus open upgraded connections. */
  inFlight: number
  tunnels: number
  healthy: boolean
}

export interface ServiceSnapshot {
  service: string
  buffered: number
  slots: readonly SlotSnapshot[]
}

/** Requests answered without reaching a slot (503s) carry this slot label. */
export const NO_SLOT = 'none'

const REQUEST_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120]
const DRAIN_BUCKETS = [0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]

export class ProxyMetrics {
  readonly requests: HotCounter
  readonly duration: HotHistogram
  readonly bufferWait: HotHistogram
  readonly rejections: Counter<'service' | 'reason'>
  readonly drainDuration: Histogram<'service' | 'slot'>
  readonly releaseLongestWait: Gauge<'service'>
  readonly retries: Counter<'service' | 'slot'>
  readonly healthChanges: Counter<'service' | 'slot' | 'healthy'>

  constructor(registry: Registry, snapshot: () => readonly ServiceSnapshot[]) {
    const registers = [registry]
    this.requests = new HotCounter(
      'handover_proxy_requests_total',
      'Requests answered by the proxy, by slot and HTTP status (slot "none": answered by the proxy itself; code 499: client left first)',
      registry,
    )
    this.duration = new HotHistogram(
      'handover_proxy_request_duration_seconds',
      'Time from forwarding a request to a slot until its response finished',
      REQUEST_BUCKETS,
      registry,
    )
    // Observed once per held request when a release hands back thousands at a time.
    this.bufferWait = new HotHistogram(
      'handover_proxy_buffer_wait_seconds',
      'Time a request was held in the buffer before it was released or rejected',
      WAIT_BUCKETS,
      registry,
    )
    this.rejections = new Counter({
      name: 'handover_proxy_buffer_rejections_total',
      help: 'Held or arriving requests answered 503 by the buffer: full (count), bytes (body bytes), timeout (wait exceeded) or shutdown',
      labelNames: ['service', 'reason'],
      registers,
    })
    this.drainDuration = new Histogram({
      name: 'handover_proxy_drain_duration_seconds',
      help: 'Time from a slot starting to drain until its in-flight requests reached zero',
      labelNames: ['service', 'slot'],
      buckets: DRAIN_BUCKETS,
      registers,
    })
    // A histogram's buckets only bound the longest wait; an SRE asks for the figure itself.
    this.releaseLongestWait = new Gauge({
      name: 'handover_proxy_buffer_release_longest_wait_seconds',
      help: 'Longest time one request of the last release had been held in the buffer',
      labelNames: ['service'],
      registers,
    })
    this.retries = new Counter({
      name: 'handover_proxy_upstream_retries_total',
      help: 'Idempotent requests retried on the other slot because this slot refused or reset before answering',
      labelNames: ['service', 'slot'],
      registers,
    })
    this.healthChanges = new Counter({
      name: 'handover_proxy_slot_health_changes_total',
      help: 'Times a slot was judged unhealthy (healthy="false") or healthy again (healthy="true")',
      labelNames: ['service', 'slot', 'healthy'],
      registers,
    })
    registerGauges(registers, snapshot)
  }

  forSlot(service: string, slot: string): SlotMetrics {
    return new SlotMetrics(this, service, slot)
  }

  forService(service: string): ServiceMetrics {
    return new ServiceMetrics(this, service)
  }
}

/** Label-bound children for one slot, so the hot path does no label hashing. */
export class SlotMetrics {
  private readonly codes: CodeCounters
  private readonly duration: HistogramChild

  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly service: string,
    private readonly slot: string,
  ) {
    this.codes = new CodeCounters(metrics.requests, service, slot)
    this.duration = metrics.duration.child({ service, slot })
  }

  answered(code: number, seconds: number): void {
    this.codes.inc(code)
    this.duration.observe(seconds)
  }

  drained(seconds: number): void {
    this.metrics.drainDuration.labels(this.service, this.slot).observe(seconds)
  }

  retried(): void {
    this.metrics.retries.labels(this.service, this.slot).inc()
  }

  healthChanged(healthy: boolean): void {
    this.metrics.healthChanges.labels(this.service, this.slot, String(healthy)).inc()
  }
}

export class ServiceMetrics {
  private readonly codes: CodeCounters
  private readonly wait: HistogramChild

  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly service: string,
  ) {
    this.codes = new CodeCounters(metrics.requests, service, NO_SLOT)
    this.wait = metrics.bufferWait.child({ service })
  }

  /** A request the proxy answered itself (no active slot, buffer rejection, shutdown). */
  answeredByProxy(code: number): void {
    this.codes.inc(code)
  }

  rejected(reason: RejectReason): void {
    this.metrics.rejections.labels(this.service, reason).inc()
  }

  waited(seconds: number): void {
    this.wait.observe(seconds)
  }

  releasedAfter(longestWaitSeconds: number): void {
    this.metrics.releaseLongestWait.labels(this.service).set(longestWaitSeconds)
  }
}

/** One cached counter child per status code seen. */
class CodeCounters {
  private readonly byCode = new Map<number, CounterChild>()

  constructor(
    private readonly requests: HotCounter,
    private readonly service: string,
    private readonly slot: string,
  ) {}

  inc(code: number): void {
    let counter = this.byCode.get(code)
    if (counter === undefined) {
      counter = this.requests.child({ service: this.service, slot: this.slot, code: String(code) })
      this.byCode.set(code, counter)
    }
    counter.value++
  }
}

// Gauges are computed at scrape time from the router's live state; reset() drops series
// of services that were deleted since the last scrape.
function registerGauges(registers: Registry[], snapshot: () => readonly ServiceSnapshot[]): void {
  const slotGauge = (name: string, help: string, value: (slot: SlotSnapshot) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['service', 'slot'],
      registers,
      collect() {
        this.reset()
        for (const s of snapshot()) for (const slot of s.slots) this.set({ service: s.service, slot: slot.slot }, value(slot))
      },
    })
  }
  slotGauge('handover_proxy_in_flight_requests', 'Requests forwarded to a slot and not yet answered', (slot) => slot.inFlight)
  slotGauge('handover_proxy_open_tunnels', 'Upgraded connections (WebSockets) open through a slot; also counted in in-flight', (slot) => slot.tunnels)
  slotGauge('handover_proxy_slot_healthy', 'Whether health checks (passive and active) let a slot receive traffic: 1 healthy, 0 not', (slot) => (slot.healthy ? 1 : 0))
  new Gauge({
    name: 'handover_proxy_buffered_requests',
    help: 'Requests currently held in the buffer of a service',
    labelNames: ['service'],
    registers,
    collect() {
      this.reset()
      for (const s of snapshot()) this.set({ service: s.service }, s.buffered)
    },
  })
  new Gauge({
    name: 'handover_proxy_slot_state',
    help: 'Current state of each slot: 1 for the state it is in, 0 for the others',
    labelNames: ['service', 'slot', 'state'],
    registers,
    collect() {
      this.reset()
      for (const s of snapshot()) {
        for (const slot of s.slots) {
          for (const state of SLOT_STATES) this.set({ service: s.service, slot: slot.slot, state }, slot.state === state ? 1 : 0)
        }
      }
    },
  })
}
