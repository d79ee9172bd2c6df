/**
 * A counter and a histogram for the series the proxy touches per request (and per held
 * request, thousands at once on a release), registered in a prom-client Registry like any
 * other metric but updated with plain number increments on label-bound children.
 * prom-client's own children hash their label set on every call (`labels()` returns a
 * closure over `observe(labels, value)`); at tens of thousands of requests per second that
 * hashing is measurable. The exposition format is the same: scrapes, names and labels do
 * not change.
 */
import type { Registry } from 'prom-client'

type Labels = Record<string, string>

interface MetricValue {
  labels: Labels
  value: number
  metricName?: string
}

interface MetricData {
  name: string
  help: string
  type: 'counter' | 'histogram'
  values: MetricValue[]
  aggregator: 'sum'
}

/** The one child per label set, created on first use. */
function childFor<T>(children: Map<string, T>, labels: Labels, create: () => T): T {
  const key = JSON.stringify(labels)
  let child = children.get(key)
  if (child === undefined) {
    child = create()
    children.set(key, child)
  }
  return child
}

export class CounterChild {
  value = 0

  constructor(readonly labels: Labels) {}

  inc(by = 1): void {
    this.value += by
  }
}

export class HotCounter {
  readonly type = 'counter'
  readonly aggregator = 'sum'
  private children = new Map<string, CounterChild>()

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never)
  }

  /** Resolve once, keep the child: its inc() is one addition. */
  child(labels: Labels): CounterChild {
    return childFor(this.children, labels, () => new CounterChild(labels))
  }

  async get(): Promise<MetricData> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.children.values()].map((c) => ({ labels: { ...c.labels }, value: c.value })) }
  }

  reset(): void {
    this.children = new Map()
  }
}

export class HistogramChild {
  /** Per bucket, not cumulative; the last slot is +Inf. */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe(value: number): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > bounds[i]!) i++
    this.counts[i]!++
    this.sum += value
    this.count++
  }
}

export class HotHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private children = new Map<string, HistogramChild>()

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never)
  }

  child(labels: Labels): HistogramChild {
    return childFor(this.children, labels, () => new HistogramChild(labels, this.bounds))
  }

  async get(): Promise<MetricData> {
    const values: MetricValue[] = []
    for (const child of this.children.values()) {
      let cumulative = 0
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += child.counts[i]!
        const le = i < this.bounds.length ? String(this.bounds[i]) : '+Inf'
        values.push({ labels: { ...child.labels, le }, value: cumulative, metricName: `${this.name}_bucket` })
      }
      values.push({ labels: { ...child.labels }, value: child.sum, metricName: `${this.name}_sum` })
      values.push({ labels: { ...child.labels }, value: child.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    this.children = new Map()
  }
}
