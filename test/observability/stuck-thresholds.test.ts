/**
 * HandoverUpgradePhaseStuck hard-codes a threshold per phase (Prometheus cannot know a
 * phase's timeout). This keeps them honest: every phase of STRICT_PHASES is covered, and
 * each threshold is at least the phase's own timeout (config.timeouts) with the example config,
 * so the alert never fires while the runner would still be waiting.
 */
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { alertRules } from '../../scripts/lib/dashboard-queries.js'
import { loadConfig } from '../../src/config/load-config.js'
import { STRICT_PHASES } from '../../src/upgrade/run/strict-phases.js'

const EXAMPLE = fileURLToPath(new URL('../../deploy/handover.example.yaml', import.meta.url))

/** phase → threshold seconds, from `(time() - m{phase=~"a|b"}) > N` terms. */
function thresholds(expr: string): Map<string, number> {
  const found = new Map<string, number>()
  for (const match of expr.matchAll(/phase=~"([^"]+)"\}\)\s*>\s*(\d+)/g)) {
    for (const phase of match[1]!.split('|')) found.set(phase, Number(match[2]))
  }
  return found
}

t.test('the stuck-phase alert covers every phase, each at or past its timeout with the defaults', async (t) => {
  const rule = alertRules().find((candidate) => candidate.alert === 'HandoverUpgradePhaseStuck')
  t.ok(rule, 'the rule exists')
  const byPhase = thresholds(rule!.expr)
  t.same([...byPhase.keys()].sort(), STRICT_PHASES.map((phase) => phase.name).sort(), 'one threshold per phase, no unknown phase')
  const config = loadConfig(EXAMPLE)
  for (const phase of STRICT_PHASES) {
    const timeout = config.timeouts.phases[phase.name]
    const threshold = byPhase.get(phase.name) ?? 0
    t.ok(threshold >= timeout && threshold <= timeout + 300, `${phase.name}: threshold ${threshold}s against its timeout ${timeout}s`)
  }
})
