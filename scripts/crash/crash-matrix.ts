/**
 * `scripts/crash-matrix`: every kill point of kill-points.ts and every fault of
 * fault-points.ts in turn (or those whose name contains an argument), each on a fresh demo
 * service, then the table. Exit code 1 when a
 * case misses a target (0 lost, one version everywhere agreeing with the journal, under 10 s
 * without a successful answer, no command needed).
 */
import { writeFileSync } from 'node:fs'
import { ensureDemoImages } from '../lib/demo-images.js'
import { removeLeftovers } from '../lib/throwaway-service.js'
import { runCrashCase, type CaseResult } from './crash-case.js'
import { KILL_POINTS } from './kill-points.js'
import { matrixTable } from './matrix-table.js'
import { faultPoints } from './fault-points.js'
import { PrivateEngine } from './private-engine.js'
import { PrivateMariaDb } from './private-mariadb.js'

async function main(filters: string[]): Promise<number> {
  await ensureDemoImages()
  await removeLeftovers('crash')
  const parts = { mariadb: new PrivateMariaDb(), engine: new PrivateEngine() }
  const points = [...KILL_POINTS, ...faultPoints(parts)].filter((point) => filters.length === 0 || filters.some((filter) => point.name.includes(filter)))
  const results: CaseResult[] = []
  for (const point of points) {
    process.stdout.write(`== killed ${point.name} ... `)
    const result = await runCrashCase(point)
    results.push(result)
    process.stdout.write(`${result.ok ? 'targets met' : `MISSED: ${result.problems.join('; ')}`} (landed in ${result.landedIn}, journal ${result.verdict})\n`)
  }
  const table = matrixTable(results)
  writeFileSync('.crash-matrix.md', `${table}\n`)
  process.stdout.write(`\n${table}\n\n${results.filter((r) => r.ok).length} of ${results.length} cases met every target (table also in .crash-matrix.md)\n`)
  return results.every((r) => r.ok) ? 0 : 1
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`crash-matrix: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)
