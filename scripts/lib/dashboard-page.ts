/**
 * Draws the Grafana dashboard's panels as one HTML page of inline SVG from Prometheus range
 * query results: enough of Grafana's time series, state timeline, stat, bar gauge and table
 * to see an upgrade at a glance without running Grafana. Layout follows the dashboard's
 * 24-column gridPos, 30 px per row unit like Grafana.
 */
import type { Dashboard } from './dashboard-queries.js'

export interface Series {
  name: string
  labels: Record<string, string>
  points: Array<[number, number]>
}

export interface PanelData {
  panel: Dashboard['panels'][number]
  series: Series[]
}

export interface PageOptions {
  title: string
  subtitle: string
  width: number
  start: number
  end: number
}

const ROW_PX = 30
const GAP = 6
const PALETTE = ['#73bf69', '#5794f2', '#ff9830', '#f2495c', '#b877d9', '#fade2a', '#8ab8ff', '#ff780a', '#96d98d', '#ca95e5']
const NAMED: Record<string, string> = { green: '#73bf69', blue: '#5794f2', orange: '#ff9830', red: '#f2495c', text: '#9fa7b3', transparent: 'transparent' }

type Mapping = { type: string; options: Record<string, { text: string; color?: string }> }

export function pageHeight(dashboard: Dashboard): number {
  return 70 + Math.max(...dashboard.panels.map((p) => p.gridPos.y + p.gridPos.h)) * ROW_PX + GAP
}

export function dashboardPage(dashboard: Dashboard, data: PanelData[], options: PageOptions): string {
  const column = (options.width - GAP) / 24
  const panels = data.map(({ panel, series }) => {
    const { x, y, w, h } = panel.gridPos
    const box = { left: GAP + x * column, top: 70 + y * ROW_PX, width: w * column - GAP, height: h * ROW_PX - GAP }
    const inner = { width: box.width - 16, height: box.height - 34 }
    return `<div class="panel" style="left:${box.left}px;top:${box.top}px;width:${box.width}px;height:${box.height}px">
<div class="title">${escape(panel.title)}</div>${drawPanel(panel, series, inner, options)}</div>`
  })
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;background:#111217;color:#ccccdc;font:12px Inter,Helvetica,Arial,sans-serif;width:${options.width}px;height:${pageHeight(dashboard)}px;position:relative;overflow:hidden}
h1{font-size:18px;font-weight:500;margin:0;position:absolute;left:${GAP + 4}px;top:14px}
.sub{position:absolute;left:${GAP + 4}px;top:42px;color:#8e8e9e}
.panel{position:absolute;background:#181b1f;border:1px solid #2c3235;border-radius:3px;box-sizing:border-box;padding:6px 8px;overflow:hidden}
.title{font-weight:500;font-size:13px;margin-bottom:6px;white-space:nowrap}
svg text{fill:#9fa7b3;font-size:10px}
.empty{color:#6e6e7e;padding-top:20px;text-align:center}
</style></head><body><h1>${escape(options.title)}</h1><div class="sub">${escape(options.subtitle)}</div>
${panels.join('\n')}</body></html>`
}

function drawPanel(panel: PanelData['panel'], series: Series[], size: { width: number; height: number }, options: PageOptions): string {
  if (series.length === 0) return '<div class="empty">No data</div>'
  const unit = panel.fieldConfig?.defaults?.unit ?? ''
  const mappings = (panel.fieldConfig?.defaults?.mappings ?? []) as Mapping[]
  switch (panel.type) {
    case 'state-timeline':
      return stateTimeline(series, size, mappings, options)
    case 'stat':
      return stat(series, size, unit, mappings)
    case 'bargauge':
      return barGauge(series, size, unit)
    case 'table':
      // A table shows the current values: the series present at the end of the range.
      return table(series.filter((s) => s.points.at(-1)?.[0] === series.reduce((latest, other) => Math.max(latest, other.points.at(-1)?.[0] ?? 0), 0)))
    default:
      return timeSeries(series, size, unit, options)
  }
}

function timeSeries(series: Series[], size: { width: number; height: number }, unit: string, options: PageOptions): string {
  const legendRows = Math.min(3, Math.ceil(series.length / (series.some((s) => s.name.length > 22) ? 2 : 3)))
  const plot = { left: 44, top: 4, width: size.width - 48, height: size.height - 26 - legendRows * 14 }
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite)
  const max = niceMax(Math.max(0, ...values))
  const xOf = (t: number): number => plot.left + ((t - options.start) / (options.end - options.start)) * plot.width
  const yOf = (v: number): number => plot.top + plot.height - (v / max) * plot.height
  const grid = [0, 0.5, 1].map((f) => {
    const y = yOf(max * f)
    return `<line x1="${plot.left}" x2="${plot.left + plot.width}" y1="${y}" y2="${y}" stroke="#2c3235"/><text x="${plot.left - 4}" y="${y + 3}" text-anchor="end">${format(max * f, unit)}</text>`
  })
  const lines = series.map((s, i) => {
    const segments: string[][] = [[]]
    for (const [t, v] of s.points) {
      if (!Number.isFinite(v)) segments.push([])
      else segments[segments.length - 1]!.push(`${xOf(t).toFixed(1)},${yOf(v).toFixed(1)}`)
    }
    return segments.filter((seg) => seg.length > 0).map((seg) => (seg.length === 1 ? `<circle cx="${seg[0]!.split(',')[0]}" cy="${seg[0]!.split(',')[1]}" r="2" fill="${PALETTE[i % PALETTE.length]}"/>` : `<polyline fill="none" stroke-width="1.5" stroke="${PALETTE[i % PALETTE.length]}" points="${seg.join(' ')}"/>`)).join('')
  })
  return `<svg width="${size.width}" height="${size.height}">${grid.join('')}${timeAxis(plot, options)}${lines.join('')}${legend(series, plot.top + plot.height + 27, size.width)}</svg>`
}

function stateTimeline(series: Series[], size: { width: number; height: number }, mappings: Mapping[], options: PageOptions): string {
  const label = 110
  const plot = { left: label, top: 0, width: size.width - label - 4, height: size.height - 18 }
  const rowHeight = Math.min(24, plot.height / series.length)
  const xOf = (t: number): number => plot.left + ((t - options.start) / (options.end - options.start)) * plot.width
  const step = series[0]!.points.length > 1 ? series[0]!.points[1]![0] - series[0]!.points[0]![0] : 1
  const rows = series.map((s, row) => {
    const y = plot.top + row * rowHeight
    const cells = s.points.map(([t, v]) => {
      const mapped = mapValue(v, mappings)
      const color = mapped?.color ? NAMED[mapped.color] ?? mapped.color : PALETTE[row % PALETTE.length]
      if (color === 'transparent') return ''
      return `<rect x="${xOf(t).toFixed(1)}" y="${y + 2}" width="${Math.max(1, xOf(t + step) - xOf(t)).toFixed(1)}" height="${rowHeight - 4}" fill="${color}"/>`
    })
    return `<text x="0" y="${y + rowHeight / 2 + 3}">${escape(s.name)}</text><rect x="${plot.left}" y="${y + 2}" width="${plot.width}" height="${rowHeight - 4}" fill="#22252b"/>${cells.join('')}`
  })
  const used = mappings.flatMap((m) => Object.values(m.options)).filter((o) => o.color !== 'transparent')
  const key = used.map((o, i) => `<rect x="${plot.left + i * 90}" y="${size.height - 10}" width="10" height="10" fill="${NAMED[o.color ?? ''] ?? o.color}"/><text x="${plot.left + i * 90 + 14}" y="${size.height - 1}">${escape(o.text)}</text>`)
  return `<svg width="${size.width}" height="${size.height}">${rows.join('')}${key.join('')}</svg>`
}

function stat(series: Series[], size: { width: number; height: number }, unit: string, mappings: Mapping[]): string {
  const each = size.width / series.length
  const big = Math.min(36, size.height / 3, each / 5)
  const cells = series.map((s, i) => {
    const value = last(s)
    const mapped = mapValue(value, mappings)
    const text = mapped?.text ?? format(value, unit)
    const color = mapped?.color ? NAMED[mapped.color] ?? mapped.color : PALETTE[i % PALETTE.length]
    const cx = each * i + each / 2
    return `<text x="${cx}" y="${size.height / 2}" text-anchor="middle" style="font-size:${big}px;fill:${color};font-weight:500">${escape(text)}</text><text x="${cx}" y="${size.height / 2 + 18}" text-anchor="middle">${escape(s.name)}</text>`
  })
  return `<svg width="${size.width}" height="${size.height}">${cells.join('')}</svg>`
}

function barGauge(series: Series[], size: { width: number; height: number }, unit: string): string {
  const values = series.map(last)
  const max = niceMax(Math.max(0, ...values.filter(Number.isFinite)))
  const rowHeight = Math.min(22, size.height / series.length)
  const label = 130
  const bars = series.map((s, i) => {
    const y = i * rowHeight
    const v = values[i]!
    const width = Number.isFinite(v) ? ((size.width - label - 60) * v) / max : 0
    return `<text x="0" y="${y + rowHeight / 2 + 3}">${escape(s.name)}</text><rect x="${label}" y="${y + 3}" width="${size.width - label - 60}" height="${rowHeight - 6}" fill="#22252b"/><rect x="${label}" y="${y + 3}" width="${width.toFixed(1)}" height="${rowHeight - 6}" fill="${PALETTE[i % PALETTE.length]}"/><text x="${size.width - 4}" y="${y + rowHeight / 2 + 3}" text-anchor="end">${format(v, unit)}</text>`
  })
  return `<svg width="${size.width}" height="${size.height}">${bars.join('')}</svg>`
}

function table(series: Series[]): string {
  const keys = [...new Set(series.flatMap((s) => Object.keys(s.labels)))]
  const head = keys.map((k) => `<th style="text-align:left;color:#8ab8ff;padding:2px 10px 2px 0">${escape(k)}</th>`).join('')
  const rows = series.map((s) => `<tr>${keys.map((k) => `<td style="padding:2px 10px 2px 0">${escape(s.labels[k] ?? '')}</td>`).join('')}</tr>`).join('')
  return `<table style="border-collapse:collapse;font-size:12px"><tr>${head}</tr>${rows}</table>`
}

function timeAxis(plot: { left: number; top: number; width: number; height: number }, options: PageOptions): string {
  const ticks = 5
  return Array.from({ length: ticks }, (_, i) => {
    const t = options.start + ((options.end - options.start) * i) / (ticks - 1)
    const x = plot.left + (plot.width * i) / (ticks - 1)
    const label = new Date(t * 1000).toISOString().slice(11, 19)
    return `<text x="${x}" y="${plot.top + plot.height + 11}" text-anchor="${i === 0 ? 'start' : i === ticks - 1 ? 'end' : 'middle'}">${label}</text>`
  }).join('')
}

function legend(series: Series[], top: number, width: number): string {
  const columns = series.some((s) => s.name.length > 22) ? 2 : 3
  const each = width / columns
  return series.slice(0, 9).map((s, i) => {
    const x = (i % columns) * each
    const y = top + Math.floor(i / columns) * 14
    return `<rect x="${x}" y="${y - 8}" width="10" height="3" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 14}" y="${y - 4}">${escape(s.name)}</text>`
  }).join('')
}

function mapValue(value: number, mappings: Mapping[]): { text: string; color?: string } | undefined {
  for (const mapping of mappings) {
    if (mapping.type !== 'value') continue
    const hit = mapping.options[String(value)]
    if (hit) return hit
  }
  return undefined
}

function last(series: Series): number {
  for (let i = series.points.length - 1; i >= 0; i--) if (Number.isFinite(series.points[i]![1])) return series.points[i]![1]
  return NaN
}

function niceMax(value: number): number {
  if (value <= 0) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  const scaled = value / power
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power
}

function format(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '-'
  switch (unit) {
    case 's':
      return value >= 1 ? seconds(value) : `${trim(value * 1000)} ms`
    case 'percentunit':
      return `${trim(value * 100)}%`
    case 'reqps':
      return `${trim(value)}/s`
    default:
      return trim(value)
  }
}

/** Seconds in the largest unit that keeps the number short, as Grafana shows its `s` unit (a schedule's next window may be a year away). */
function seconds(value: number): string {
  const units: Array<[number, string]> = [[365 * 86400, 'year'], [7 * 86400, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'min']]
  const [size, name] = units.find(([size]) => Math.abs(value) >= size) ?? [1, 's']
  return `${trim(value / size)} ${name}`
}

function trim(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : String(Number(value.toFixed(2)))
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
}
