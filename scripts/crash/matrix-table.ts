import type { CaseResult } from './crash-case.js'

/** The crash matrix as a Markdown table (the README's), one row per case. */
export function matrixTable(results: readonly CaseResult[]): string {
  const rows = [
    '| killed | landed in | requests | failed (503 + Retry-After / other) | longest without a success | writes lost | serving at end (blue/green) | version table | journal | ended by itself after | targets |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const r of results) {
    const ended = r.endedAfterMs === null ? 'never' : `${(r.endedAfterMs / 1000).toFixed(1)} s`
    rows.push(`| ${r.name} | ${r.landedIn} | ${r.sent} | ${r.retryable} / ${r.otherFailures} | ${(r.longestGapMs / 1000).toFixed(2)} s | ${r.lost} | ${r.serving} | ${r.versionTable} | ${r.verdict} | ${ended} | ${r.ok ? 'met' : r.problems.join('; ')} |`)
  }
  return rows.join('\n')
}
