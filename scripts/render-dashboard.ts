/**
 * Renders deploy/grafana/handover-dashboard.json to a PNG from a running Prometheus, without
 * Grafana (headless chromium):
 *
 *   npx tsx scripts/render-dashboard.ts --prometheus http://127.0.0.1:9090 --service demo \
 *     [--minutes 10 | --start UNIX --end UNIX] [--out docs/dashboard.png]
 */
import { parseArgs } from 'node:util'
import { renderDashboard } from './lib/render-dashboard-png.js'

const { values } = parseArgs({
  options: {
    prometheus: { type: 'string' },
    service: { type: 'string' },
    minutes: { type: 'string', default: '10' },
    start: { type: 'string' },
    end: { type: 'string' },
    out: { type: 'string', default: 'docs/dashboard.png' },
  },
})

if (!values.prometheus || !values.service) {
  process.stderr.write('usage: render-dashboard --prometheus URL --service NAME [--minutes N | --start UNIX --end UNIX] [--out FILE]\n')
  process.exit(2)
}
const end = values.end ? Number(values.end) : Date.now() / 1000
const start = values.start ? Number(values.start) : end - Number(values.minutes) * 60
if (!Number.isFinite(start) || !Number.isFinite(end) || start >= end) {
  process.stderr.write('render-dashboard: --start must be before --end (unix seconds), --minutes a number\n')
  process.exit(2)
}
renderDashboard({ prometheusUrl: values.prometheus, service: values.service, start, end, out: values.out! }).then(
  (result) => {
    process.stdout.write(`${result.out}: ${result.width}x${result.height}, ${result.bytes} bytes${result.emptyPanels.length ? `; no data: ${result.emptyPanels.join(', ')}` : ''}\n`)
  },
  (error: unknown) => {
    process.stderr.write(`render-dashboard: ${(error as Error).message}\n`)
    process.exit(1)
  },
)
