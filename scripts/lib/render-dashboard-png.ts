/**
 * Renders the Grafana dashboard to a PNG without Grafana: each panel's queries go to
 * Prometheus's query_range API, a small page on 127.0.0.1 draws them (dashboard-page.ts),
 * and headless Debian chromium screenshots it with a fresh profile.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { panelQueries, readDashboard } from './dashboard-queries.js'
import { dashboardPage, pageHeight, type PanelData, type Series } from './dashboard-page.js'
import { rangeQuery } from './prometheus-process.js'

export interface RenderOptions {
  prometheusUrl: string
  service: string
  /** Unix seconds. */
  start: number
  end: number
  out: string
  width?: number
  chromium?: string
}

export interface RenderResult {
  out: string
  width: number
  height: number
  bytes: number
  /** Panels whose queries returned nothing (drawn as "No data"). */
  emptyPanels: string[]
}

export async function renderDashboard(options: RenderOptions): Promise<RenderResult> {
  const dashboard = readDashboard()
  const width = options.width ?? 1600
  const step = Math.max(1, Math.round((options.end - options.start) / 400))
  const rateInterval = `${Math.max(15, step * 4)}s`
  const queries = panelQueries(options.service, dashboard, rateInterval)
  const data: PanelData[] = []
  for (const panel of dashboard.panels) {
    const series: Series[] = []
    for (const query of queries.filter((q) => q.panelId === panel.id)) {
      const answer = await rangeQuery(options.prometheusUrl, query.expr, options.start, options.end, step)
      if (answer.status !== 'success') throw new Error(`panel "${panel.title}" ${query.refId}: ${answer.error}`)
      for (const result of answer.data?.result ?? []) {
        series.push({ name: legendOf(query.legend, result.metric), labels: result.metric, points: (result.values ?? []).map(([t, v]) => [t, Number(v)]) })
      }
    }
    data.push({ panel, series: series.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true })) })
  }
  const subtitle = `service ${options.service}  ·  ${iso(options.start)} – ${iso(options.end)} UTC  ·  rendered from Prometheus ${options.prometheusUrl} query_range (step ${step}s)`
  const html = dashboardPage(dashboard, data, { title: dashboard.title, subtitle, width, start: options.start, end: options.end })
  const height = pageHeight(dashboard)
  await screenshot(html, options.out, width, height, options.chromium ?? 'chromium')
  return { out: options.out, width, height, bytes: statSync(options.out).size, emptyPanels: data.filter((d) => d.series.length === 0).map((d) => d.panel.title) }
}

function legendOf(format: string, labels: Record<string, string>): string {
  const text = format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? '')
  return text.trim() || JSON.stringify(labels)
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ')
}

/** Serves the page on a loopback port for one screenshot; chromium gets a fresh profile and 60 s. */
async function screenshot(html: string, out: string, width: number, height: number, chromium: string): Promise<void> {
  const server = http.createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const profile = mkdtempSync(join(tmpdir(), 'handover-chromium-'))
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    const args = [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--hide-scrollbars', `--user-data-dir=${profile}`,
      `--screenshot=${out}`, `--window-size=${width},${height}`, url,
    ]
    const { code, output } = await run(chromium, args, 60_000)
    if (code !== 0) throw new Error(`${chromium} exited with ${code}: ${output.slice(-2000)}`)
    if (readFileSync(out).subarray(1, 4).toString() !== 'PNG') throw new Error(`${out} is not a PNG`)
  } finally {
    server.close()
    rmSync(profile, { recursive: true, force: true })
  }
}

function run(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)))
    child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)))
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), timeoutMs)
    child.once('error', (error) => (clearTimeout(timer), reject(error)))
    child.once('close', (code) => (clearTimeout(timer), resolve({ code, output })))
  })
}
