/**
 * The README's metrics table names every metric a real agent process exports, and no
 * metric it does not: a metric added without its row, or a row left after a rename, fails.
 * prom-client prints the `# TYPE` line of every registered metric, series or not.
 */
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../scripts/lib/free-port.js'
import { startAgentProcess } from '../../scripts/lib/handover-process.js'

const README = fileURLToPath(new URL('../../README.md', import.meta.url))

t.test('every handover_ metric of the agent has a row in the README, and every row a metric', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'readme-metrics-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const agent = await startAgentProcess({ socket: join(dir, 'agent.sock'), stateFile: join(dir, 'routes.json'), metricsPort: await freePort() })
  t.teardown(agent.stop)
  const text = await (await fetch(agent.metricsUrl)).text()
  const exported = new Map([...text.matchAll(/^# TYPE (handover_\w+) (\w+)$/gm)].map((m) => [m[1]!, m[2]!]))
  const rows = new Map([...readFileSync(README, 'utf8').matchAll(/^\| `(handover_\w+)` \| (\w+) \|/gm)].map((m) => [m[1]!, m[2]!]))
  t.ok(exported.size >= 30, `the agent exports its metrics (${exported.size})`)
  t.same([...exported.keys()].filter((name) => !rows.has(name)).sort(), [], 'no exported metric lacks a README row')
  t.same([...rows.keys()].filter((name) => !exported.has(name)).sort(), [], 'no README row names a metric the agent does not export')
  for (const [name, type] of exported) if (rows.has(name)) t.equal(rows.get(name), type, `${name} is a ${type} in the README too`)
})
