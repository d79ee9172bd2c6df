import t from 'tap'
import { route, startShop, startTestAgent } from '../proxy/fixtures/agent.js'
import { send, waitFor } from '../proxy/fixtures/http-client.js'
import { startUpstreams } from '../proxy/fixtures/upstream.js'

const NAMES = [
  'handover_upgrade_phase',
  'handover_upgrade_phase_duration_seconds',
  'handover_upgrades_total',
  'handover_upgrade_rollbacks_total',
  'handover_proxy_requests_total',
  'handover_proxy_request_duration_seconds',
  'handover_proxy_in_flight_requests',
  'handover_proxy_buffered_requests',
  'handover_proxy_buffer_wait_seconds',
  'handover_proxy_buffer_rejections_total',
  'handover_proxy_slot_state',
  'handover_proxy_drain_duration_seconds',
]

t.test('GET /metrics exposes the proxy and upgrade series after traffic and a reported event', async (t) => {
  const { blue, green } = await startUpstreams(t)
  const { agent, client } = await startTestAgent(t)
  const { listen } = await client.putService(route('shop', { blue: blue.port, green: green.port }, { blue: 'active', green: 'disabled' }, { maxRequests: 0, maxWaitSeconds: 1 }))
  await send(listen.port).reply
  await client.setSlotState('shop', 'blue', 'draining')
  await client.waitDrained('shop', 'blue', 5)
  await client.setSlotState('shop', 'blue', 'active')
  await client.flip('shop', 'green')
  t.equal((await send(listen.port).reply).status, 503, 'maxRequests 0: refused as full')
  await client.release('shop', 'green')
  await client.reportEvent({ type: 'phase-started', service: 'shop', runId: 'r1', phase: 'flip' })
  await client.reportEvent({ type: 'phase-completed', service: 'shop', runId: 'r1', phase: 'flip', durationSeconds: 3 })
  await client.reportEvent({ type: 'run-finished', service: 'shop', runId: 'r1', result: 'succeeded', durationSeconds: 9 })

  const response = await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`)
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), /^text\/plain/)
  const text = await response.text()
  for (const name of NAMES) t.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name)
  t.match(text, /^handover_proxy_requests_total\{service="shop",slot="blue",code="200"\} 1$/m)
  t.match(text, /^handover_proxy_requests_total\{service="shop",slot="none",code="503"\} 1$/m)
  t.match(text, /^handover_proxy_buffer_rejections_total\{service="shop",reason="full"\} 1$/m)
  t.match(text, /^handover_proxy_slot_state\{service="shop",slot="green",state="active"\} 1$/m)
  t.match(text, /^handover_proxy_slot_state\{service="shop",slot="blue",state="disabled"\} 1$/m)
  t.match(text, /^handover_proxy_in_flight_requests\{service="shop",slot="blue"\} 0$/m)
  t.match(text, /^handover_proxy_drain_duration_seconds_count\{service="shop",slot="blue"\} 2$/m, 'two drains: the explicit one and the flip')
  t.match(text, /^handover_upgrade_phase\{service="shop",phase="flip"\} 0$/m)
  t.match(text, /^handover_upgrade_phase_duration_seconds_count\{service="shop",phase="flip",result="completed"\} 1$/m)
  t.match(text, /^handover_upgrades_total\{service="shop",result="succeeded"\} 1$/m)
  t.equal((await fetch(`http://127.0.0.1:${agent.metricsPort}/other`)).status, 404)
})

t.test('the in-flight and buffered gauges are read live at scrape time', async (t) => {
  const { blue, agent, port } = await startShop(t, { blue: 'active', green: 'disabled' })
  const slow = send(port, { path: '/slow' })
  await waitFor(() => blue.parkedCount === 1, 'the slow request to reach blue')
  const scrape = async () => fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`).then((r) => r.text())
  t.match(await scrape(), /^handover_proxy_in_flight_requests\{service="shop",slot="blue"\} 1$/m)
  blue.openGate()
  await slow.reply
  t.match(await scrape(), /^handover_proxy_in_flight_requests\{service="shop",slot="blue"\} 0$/m)
})
