/**
 * What Grafana needs from the provisioned file, checked without Grafana: the two variables,
 * every panel on the ${datasource} variable, panels on the 24-column grid without overlap,
 * unique ids, and every service-specific query filtered by $service.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'
import { readDashboard } from '../../scripts/lib/dashboard-queries.js'

const dashboard = readDashboard()
/** Panels that show every service or every agent on purpose. */
const ALL_SERVICES = new Set(['Schema version', 'Agent up'])

t.test('the variables: a Prometheus data source and one service from label_values', async (t) => {
  const byName = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]))
  t.match(byName.datasource, { type: 'datasource', query: 'prometheus' })
  t.match(byName.service, { type: 'query', query: { query: /^label_values\(handover_[a-z_]+, service\)$/ } })
})

t.test('every panel uses ${datasource}, has a unique id and a place on the grid', async (t) => {
  const raw = JSON.parse(readFileSync(fileURLToPath(new URL('../../deploy/grafana/handover-dashboard.json', import.meta.url)), 'utf8')) as { panels: Array<{ datasource: { uid: string }; targets: Array<{ datasource: { uid: string } }> }> }
  t.ok(raw.panels.every((p) => p.datasource.uid === '${datasource}' && p.targets.every((q) => q.datasource.uid === '${datasource}')), 'data source is the variable everywhere')
  t.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, 'ids are unique')
  const cells = new Map<string, string>()
  for (const panel of dashboard.panels) {
    const { x, y, w, h } = panel.gridPos
    t.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0, `${panel.title} fits the 24 columns`)
    for (let col = x; col < x + w; col++) {
      for (let row = y; row < y + h; row++) {
        const key = `${col},${row}`
        if (cells.has(key)) t.fail(`${panel.title} overlaps ${cells.get(key)} at ${key}`)
        cells.set(key, panel.title)
      }
    }
  }
})

t.test('every query of a per-service panel is filtered by $service', async (t) => {
  for (const panel of dashboard.panels.filter((p) => !ALL_SERVICES.has(p.title))) {
    for (const target of panel.targets) {
      const selectors = [...target.expr.matchAll(/handover_[a-z_]+(\{[^}]*\})?/g)]
      t.ok(selectors.length > 0 && selectors.every((m) => m[1]?.includes('service="$service"')), `${panel.title} ${target.refId}: each selector has service="$service"`)
    }
  }
})

t.test('the provisioning files say what Grafana reads', async (t) => {
  const dir = new URL('../../deploy/grafana/provisioning/', import.meta.url)
  const provider = YAML.parse(readFileSync(new URL('dashboards.yml', dir), 'utf8')) as { apiVersion: number; providers: Array<{ type: string; options: { path: string } }> }
  t.match(provider, { apiVersion: 1, providers: [{ type: 'file', options: { path: /^\// } }] })
  const datasource = YAML.parse(readFileSync(new URL('datasource.example.yml', dir), 'utf8')) as { datasources: Array<{ type: string; url: string }> }
  t.match(datasource.datasources, [{ type: 'prometheus', url: /^http:\/\// }])
})
