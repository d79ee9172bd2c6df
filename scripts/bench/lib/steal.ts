/**
 * CPU time the hypervisor gave to other guests while this VM wanted to run ("steal" in
 * /proc/stat). On a shared VM it comes in bursts, and a burst stalls every process for
 * milliseconds: a latency percentile measured during one says more about the neighbours
 * than about the target, so the benches print it beside their figures.
 */
import { readFileSync } from 'node:fs'

/** Starts a measurement; the returned function gives the share of CPU time stolen since (0..1). */
export function stealMeter(): () => number {
  const start = cpuTimes()
  return () => {
    const now = cpuTimes()
    const total = now.total - start.total
    return total > 0 ? (now.steal - start.steal) / total : 0
  }
}

function cpuTimes(): { steal: number; total: number } {
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice", in clock ticks.
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number)
  return { steal: fields[7] ?? 0, total: fields.reduce((sum, n) => sum + n, 0) }
}
