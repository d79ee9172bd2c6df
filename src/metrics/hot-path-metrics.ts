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

/**
 * What both metrics share: registration, one child per label set (resolved once by the
 * caller, who keeps it), and reset.
 */
abstract class HotMetric<Child> {
  readonly aggregator = 'sum'
  private children = new Map<string, Child>()

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never)
  }

  /** Resolve once, keep the child: its update is plain arithmetic. */
  child(labels: Labels): Child {
    const key = JSON.stringify(labels)
    let child = this.children.get(key)
    if (child === undefined) {
      child = this.create(labels)
      this.children.set(key, child)
    }
    return child
  }

  reset(): void {
    this.children = new Map()
  }

  protected all(): IterableIterator<Child> {
    return this.children.values()
  }

  protected abstract create(labels: Labels): Child
}

export class CounterChild {
  value = 0

  constructor(readonly labels: Labels) {}

  inc(by = 1): void {
    this.value += by
  }
}

export class HotCounter extends HotMetric<CounterChild> {
  readonly type = 'counter'

  async get(): Promise<MetricData> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.all()].map((c) => ({ labels: { ...c.labels }, value: c.value })) }
  }

  protected create(labels: Labels): CounterChild {
    return new CounterChild(labels)
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

export class HotHistogram extends HotMetric<HistogramChild> {
  readonly type = 'histogram'

  constructor(
    name: string,
    help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, registry)
  }

  async get(): Promise<MetricData> {
    const values: MetricValue[] = []
    for (const child of this.all()) {
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

  protected create(labels: Labels): HistogramChild {
    return new HistogramChild(labels, this.bounds)
  }
}
