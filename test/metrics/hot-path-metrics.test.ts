import { Registry } from 'prom-client'
import t from 'tap'
import { HotCounter, HotHistogram } from '../../src/metrics/hot-path-metrics.js'

t.test('the hot-path counter and histogram expose the standard Prometheus text format', async (t) => {
  const registry = new Registry()
  const counter = new HotCounter('x_requests_total', 'requests', registry)
  const histogram = new HotHistogram('x_duration_seconds', 'durations', [0.01, 0.1, 1], registry)
  const ok = counter.child({ service: 's', code: '200' })
  ok.inc()
  ok.inc(2)
  t.equal(counter.child({ service: 's', code: '200' }), ok, 'one child per label set')
  const child = histogram.child({ service: 's' })
  for (const value of [0.005, 0.01, 0.05, 0.5, 5]) child.observe(value)
  const text = await registry.metrics()
  t.match(text, /^# TYPE x_requests_total counter$/m)
  t.match(text, /^x_requests_total\{service="s",code="200"\} 3$/m)
  t.match(text, /^# TYPE x_duration_seconds histogram$/m)
  t.match(text, /^x_duration_seconds_bucket\{service="s",le="0.01"\} 2$/m, 'a value equal to a bound falls in that bucket')
  t.match(text, /^x_duration_seconds_bucket\{service="s",le="0.1"\} 3$/m, 'buckets are cumulative')
  t.match(text, /^x_duration_seconds_bucket\{service="s",le="1"\} 4$/m)
  t.match(text, /^x_duration_seconds_bucket\{service="s",le="\+Inf"\} 5$/m)
  t.match(text, /^x_duration_seconds_sum\{service="s"\} 5\.56\d*$/m)
  t.match(text, /^x_duration_seconds_count\{service="s"\} 5$/m)
  t.same((await registry.getSingleMetric('x_requests_total')!.get()).values, [{ labels: { service: 's', code: '200' }, value: 3 }])
})
