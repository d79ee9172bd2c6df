/**
 * Proxy throughput in one run: the same Node upstream measured direct, behind nginx
 * (1 worker, upstream keep-alive), HAProxy (1 thread) and the handover agent, with the same
 * wrk load (keep-alive, bounded time), rounds interleaved so drift hits every target alike.
 * Prints req/s and p50/p99 per target (medians over rounds), the ratios that matter (of
 * those medians), and handover/nginx within each round with its median.
 *
 * Then the latency each proxy adds at moderate load: a fixed 3,000 requests/s (h2load, 4
 * connections x 750/s, rounds interleaved; more and shorter rounds than for throughput, since
 * the hypervisor's steal comes in bursts and only the rounds it spared show what a proxy
 * adds), p50/p99 over all rounds minus direct's, and
 * each round's p99 minus direct's p99 in that round. Beside each round's figure: the share
 * of CPU time the hypervisor stole during it (lib/steal.ts), and the median over the rounds
 * in which neither that target nor direct lost more than 1% to it.
 *
 *   npx tsx scripts/bench/proxy-throughput.ts [--seconds 5] [--rounds 5] [--connections 50]
 *                                             [--latency-seconds 3] [--latency-rounds 10]
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { firstLine, start, stopAll } from './lib/processes.js'
import { cpuSeconds, startHandover, startHaproxy, startNginx, startNodeRelay, target, type Target } from './lib/targets.js'
import { quantile } from '../lib/quantile.js'
import { fixedRateLatencies } from './lib/fixed-rate.js'
import { stealMeter } from './lib/steal.js'
import { median, wrk, type WrkResult } from './lib/wrk.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    'latency-seconds': { type: 'string', default: '3' },
    'latency-rounds': { type: 'string', default: '10' },
    'no-build': { type: 'boolean', default: false },
  },
})
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const connections = Number(values.connections)
const latencySeconds = Number(values['latency-seconds'])
const latencyRounds = Number(values['latency-rounds'])
for (const [name, value] of Object.entries({ seconds, rounds, connections, 'latency-seconds': latencySeconds, 'latency-rounds': latencyRounds })) {
  if (Number.isInteger(value) && value >= 1) continue
  console.error(`--${name}: expected a whole number of at least 1, got ${JSON.stringify(values[name as keyof typeof values])}`)
  process.exit(2)
}
// About a quarter of what the slowest target sustains here. Lower rates let the VM's CPUs
// idle between requests, and their wake-up time then dominates every target's p99.
const MODERATE = { connections: 4, rate: 750 }

async function main(): Promise<void> {
  if (!values['no-build']) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' })
  const dir = mkdtempSync(join(tmpdir(), 'hov-bench-'))
  try {
    const upstream = start(process.execPath, ['--import', 'tsx', new URL('./lib/upstream-server.ts', import.meta.url).pathname])
    const upstreamPort = Number(await firstLine(upstream))
    const targets: Target[] = [
      { ...target('direct', upstreamPort, upstream), stop: async () => {} },
      await startNginx(dir, upstreamPort),
      await startHaproxy(dir, upstreamPort),
      await startHandover(dir, upstreamPort),
      await startNodeRelay(upstreamPort),
    ]
    const results = new Map<string, WrkResult[]>(targets.map((t) => [t.name, []]))
    const cpu = new Map<string, number[]>(targets.map((t) => [t.name, []]))
    console.log(`load before: ${loadavg().map((n) => n.toFixed(2)).join(' ')}; wrk -t1 -c${connections} -d${seconds}s, ${rounds} rounds`)
    for (const t of targets) await wrk(`http://127.0.0.1:${t.port}/`, { threads: 1, connections, seconds: 1 }) // warm-up
    const stolen = stealMeter()
    for (let round = 0; round < rounds; round++) {
      for (const t of rotated(targets, round)) {
        const before = cpuSeconds(t.pids())
        const result = await wrk(`http://127.0.0.1:${t.port}/`, { threads: 1, connections, seconds })
        // For "direct" this is the upstream's own CPU; for a proxy, the proxy's alone.
        cpu.get(t.name)!.push(((cpuSeconds(t.pids()) - before) * 1e6) / (result.rps * seconds))
        if (result.errors > 0) throw new Error(`${t.name}: ${result.errors} errors under load; the figures would be meaningless`)
        results.get(t.name)!.push(result)
      }
    }
    report(results, cpu)
    console.log(`CPU time stolen by the hypervisor during these rounds: ${percent(stolen())}`)
    await addedLatency(targets)
    console.log(`load after: ${loadavg().map((n) => n.toFixed(2)).join(' ')}`)
  } finally {
    await stopAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

// A round whose target or direct lost more CPU than this to other guests is not a quiet round.
const QUIET_STEAL = 0.01

interface LatencyRound {
  p99: number
  steal: number
}

async function addedLatency(targets: readonly Target[]): Promise<void> {
  const pooled = new Map<string, number[]>(targets.map((t) => [t.name, []]))
  const byRound = new Map<string, LatencyRound[]>(targets.map((t) => [t.name, []]))
  const { connections, rate } = MODERATE
  for (let round = 0; round < latencyRounds; round++) {
    for (const t of rotated(targets, round)) {
      const stolen = stealMeter()
      const latencies = await fixedRateLatencies(`http://127.0.0.1:${t.port}/`, { ...MODERATE, seconds: latencySeconds })
      pooled.get(t.name)!.push(...latencies)
      byRound.get(t.name)!.push({ p99: quantile(latencies, 0.99), steal: stolen() })
    }
  }
  const direct = pooled.get('direct')!
  const directRounds = byRound.get('direct')!
  const [p50, p99] = [quantile(direct, 0.5), quantile(direct, 0.99)]
  console.log(`moderate load (h2load, ${connections} connections x ${rate} req/s, ${latencyRounds} x ${latencySeconds}s each): direct p50 ${p50.toFixed(3)} ms / p99 ${p99.toFixed(3)} ms; added by each proxy:`)
  console.log(`direct     per round p99 (CPU stolen): ${directRounds.map((r) => `${r.p99.toFixed(3)} (${percent(r.steal)})`).join(' ')} ms`)
  for (const [name, latencies] of pooled) {
    if (name === 'direct') continue
    // Each round's p99 minus direct's p99 in that same round.
    const added = byRound.get(name)!.map((r, round) => ({ ms: r.p99 - directRounds[round]!.p99, quiet: r.steal <= QUIET_STEAL && directRounds[round]!.steal <= QUIET_STEAL, steal: r.steal }))
    const quiet = added.filter((a) => a.quiet).map((a) => a.ms)
    console.log(
      `${name.padEnd(10)} p50 ${signed(quantile(latencies, 0.5) - p50)} ms  p99 ${signed(quantile(latencies, 0.99) - p99)} ms over all rounds; per round p99 ${added.map((a) => `${signed(a.ms)} (${percent(a.steal)})`).join(' ')} ms, median ${signed(median(added.map((a) => a.ms)))}; over the ${quiet.length} quiet rounds ${quiet.length === 0 ? 'none' : signed(median(quiet))}  (${latencies.length} requests)`,
    )
  }
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`
}

/** Round r starts at target r, so each target opens one round and none always runs first. */
function rotated<T>(items: readonly T[], round: number): T[] {
  const at = round % items.length
  return [...items.slice(at), ...items.slice(0, at)]
}

function signed(ms: number): string {
  return `${ms >= 0 ? '+' : ''}${ms.toFixed(3)}`
}

function report(results: Map<string, WrkResult[]>, cpu: Map<string, number[]>): void {
  const summary = new Map<string, { rps: number; p50: number; p99: number; cpu: number }>()
  for (const [name, runs] of results) {
    summary.set(name, { rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50Ms)), p99: median(runs.map((r) => r.p99Ms)), cpu: median(cpu.get(name)!) })
  }
  console.log('target      req/s     p50 ms   p99 ms   CPU us/req (medians; CPU of the proxy process, or the upstream for direct)')
  for (const [name, s] of summary) console.log(`${name.padEnd(10)} ${s.rps.toFixed(0).padStart(7)}  ${s.p50.toFixed(3).padStart(7)}  ${s.p99.toFixed(3).padStart(7)}  ${s.cpu.toFixed(1).padStart(7)}`)
  const rps = (name: string) => summary.get(name)!.rps
  console.log(`handover/direct ${(rps('handover') / rps('direct')).toFixed(2)}  handover/nginx ${(rps('handover') / rps('nginx')).toFixed(2)}  haproxy/nginx ${(rps('haproxy') / rps('nginx')).toFixed(2)}  node-relay/nginx ${(rps('node-relay') / rps('nginx')).toFixed(2)}  handover/node-relay ${(rps('handover') / rps('node-relay')).toFixed(2)}`)
  // Neighbours' load drifts over minutes: a ratio of two runs minutes apart measures the drift too.
  const perRound = results.get('handover')!.map((run, round) => run.rps / results.get('nginx')![round]!.rps)
  console.log(`handover/nginx per round: ${perRound.map((r) => r.toFixed(2)).join(' ')}; median ${median(perRound).toFixed(2)}`)
}

main().catch(async (error: unknown) => {
  await stopAll()
  console.error(error)
  process.exitCode = 1
})
