/**
 * Every query the Grafana dashboard and the alert rules run, read from the files that ship
 * in deploy/, with Grafana's variables substituted, so a test and the render script use
 * exactly what an SRE installs.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'
import { ALERT_RULES_FILE } from './prometheus-process.js'

export const DASHBOARD_FILE = fileURLToPath(new URL('../../deploy/grafana/handover-dashboard.json', import.meta.url))

export interface PanelQuery {
  panelId: number
  panel: string
  type: string
  refId: string
  legend: string
  /** The query as written in the dashboard, with variables. */
  template: string
  expr: string
}

export interface AlertRule {
  alert: string
  expr: string
  for?: string
}

export interface Dashboard {
  title: string
  panels: Array<{ id: number; title: string; type: string; gridPos: { x: number; y: number; w: number; h: number }; targets: Array<{ refId: string; expr: string; legendFormat?: string }>; fieldConfig?: { defaults?: { unit?: string; mappings?: unknown[] } } }>
  templating: { list: Array<{ name: string; type: string; query: unknown }> }
}

export function readDashboard(file = DASHBOARD_FILE): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard
}

/** Grafana's variables as Grafana would fill them for one service. */
export function substitute(template: string, vars: { service: string; rateInterval?: string }): string {
  return template
    .replaceAll('$service', vars.service)
    .replaceAll('${service}', vars.service)
    .replaceAll('$__rate_interval', vars.rateInterval ?? '1m')
    .replaceAll('$__interval', '15s')
}

export function panelQueries(service: string, dashboard = readDashboard(), rateInterval = '1m'): PanelQuery[] {
  return dashboard.panels.flatMap((panel) =>
    panel.targets.map((target) => ({
      panelId: panel.id,
      panel: panel.title,
      type: panel.type,
      refId: target.refId,
      legend: target.legendFormat ?? '',
      template: target.expr,
      expr: substitute(target.expr, { service, rateInterval }),
    })),
  )
}

export function alertRules(file = ALERT_RULES_FILE): AlertRule[] {
  const parsed = YAML.parse(readFileSync(file, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> }
  return parsed.groups.flatMap((group) => group.rules.filter((rule) => rule.alert !== undefined))
}

/** The metric names an expression reads (identifiers followed by a selector or range). */
export function metricNames(expr: string): string[] {
  const names = new Set<string>()
  for (const match of expr.matchAll(/\b(handover_[a-z0-9_]+|up)\s*(?=\{|\[|\s|\)|$)/g)) names.add(match[1]!)
  return [...names]
}

/** The `label_values(metric, label)` query of a template variable, as Prometheus series. */
export function variableMetric(dashboard: Dashboard, name: string): { metric: string; label: string } {
  const variable = dashboard.templating.list.find((candidate) => candidate.name === name)
  const query = variable?.query as { query?: string } | string | undefined
  const text = typeof query === 'string' ? query : query?.query ?? ''
  const match = /^label_values\(\s*([a-z_:][a-z0-9_:]*)\s*,\s*([a-z_]+)\s*\)$/i.exec(text)
  if (!match) throw new Error(`dashboard variable ${name}: expected label_values(metric, label), got "${text}"`)
  return { metric: match[1]!, label: match[2]! }
}
