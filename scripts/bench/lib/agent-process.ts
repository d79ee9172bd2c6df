/**
 * The agent for memory benches: startAgent in its own process, started with --expose-gc,
 * so a measurement can first collect garbage and count only what is live. On each line
 * "measure" on stdin it collects twice and prints {rss, heapUsed} in bytes as one JSON line.
 *
 *   node --expose-gc --import tsx scripts/bench/lib/agent-process.ts SOCKET STATE_FILE METRICS_PORT
 */
import { createInterface } from 'node:readline'
import { startAgent } from '../../../src/proxy/agent.js'

const [socketPath, stateFile, metricsPort] = process.argv.slice(2)
const collect = (globalThis as { gc?: () => void }).gc
if (socketPath === undefined || stateFile === undefined || metricsPort === undefined || collect === undefined) {
  throw new Error('usage: node --expose-gc --import tsx agent-process.ts SOCKET STATE_FILE METRICS_PORT')
}
const agent = await startAgent({ socketPath, stateFile, metrics: { host: '127.0.0.1', port: Number(metricsPort) }, log: () => {} })
process.stdout.write('ready\n')
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'measure') continue
  collect()
  collect()
  const { rss, heapUsed } = process.memoryUsage()
  process.stdout.write(JSON.stringify({ rss, heapUsed }) + '\n')
}
await agent.close()
