/**
 * The whole job, for real: a demo service on the real Docker engine and MariaDB, v1 in both
 * slots behind a handover agent process, upgraded to v2 by the real CLI while clients write
 * and read through the proxy.
 */
import t, { type Test } from 'tap'
import Docker from 'dockerode'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import type { HistoryJson, StatusJson } from '../../src/cli/json-output.js'
import { startLoad, verifyRows } from '../../scripts/lib/load-generator.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { STRICT_PHASES } from '../../src/upgrade/run/strict-phases.js'
import { createTestService, JOURNAL_SCHEMA, removeLeftovers, type TestService } from '../../scripts/lib/throwaway-service.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'

const docker = new Docker()

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-load')
})

t.test('v1 → v2 under concurrent writes and reads: nothing fails, nothing is lost', async (t) => {
  const svc = await createTestService('it-load')
  t.teardown(svc.cleanup)
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  t.equal(deploy.code, 0, 'deploy succeeds', { output: deploy.stdout + deploy.stderr })

  const load = startLoad({ baseUrl: svc.proxyUrl, concurrency: 12, maxDurationMs: 120_000, maxRequests: 300_000, postRatio: 0.5 })
  await waitUntil(() => load.progress().written.length >= 100, 20_000, 'rows written before the upgrade')
  const writtenBefore = load.progress().written.length
  // Proxy settings changed in the config after deploy reach the agent with the upgrade.
  writeFileSync(svc.configFile, readFileSync(svc.configFile, 'utf8').replace('drainTimeoutSeconds: 30', 'drainTimeoutSeconds: 31\n  trustedForwarders: [192.0.2.10]'))
  const upgrade = await runHandover(['upgrade', '--config', svc.configFile, '--image', DEMO_IMAGES['2']])
  const writtenDuring = load.progress().written.length
  await waitUntil(() => load.progress().written.length >= writtenDuring + 100, 20_000, 'rows written after the upgrade')
  const report = await load.stop()

  t.equal(upgrade.code, 0, 'upgrade succeeds', { output: upgrade.stdout + upgrade.stderr })
  t.equal(report.failed, 0, 'no request failed', { failures: report.failures })
  t.match(upgrade.stdout, /contract v2\.sql:\d+ \d+ms/, 'the contract statement is printed from its fact')
  t.match(upgrade.stdout, /v2\.sql: people\.name kept as _handover_name until finalize/, 'the contract renamed the old column instead of dropping it')
  t.match(upgrade.stdout, /released \d+ held requests to green \(longest held \d+\.\d{3}s\)/, 'the release says how many requests were held and the longest hold')
  t.match(upgrade.stdout, /dropped for real: people\._handover_name/, 'and finalize dropped it')
  t.ok(writtenDuring > writtenBefore, 'rows were written while the upgrade ran')
  t.ok(report.versions['1']! > 0 && report.versions['2']! > 0, 'clients were served by v1, then by v2')
  t.ok(report.versionSpans['1']!.lastAtMs <= report.versionSpans['2']!.firstAtMs, 'no v1 answer after the first v2 answer')

  const check = await verifyRows(svc.proxyUrl, report.written)
  t.equal(check.checked, report.written.length, 'every written row was checked')
  t.same([check.missing, check.wrong, check.errors], [[], [], []], 'every row reads back through v2 with its name')
  const route = await new AdminClient(join(svc.dir, 'agent.sock'), 10).getService(svc.name)
  t.same([route.drainTimeoutSeconds, route.trustedForwarders], [31, ['192.0.2.10']], "the agent has the config's new proxy settings")
  await assertRowsInDatabase(t, svc, report.written)
  await assertBothSlotsOnV2(t, svc)
  await assertJournal(t, svc)
  await assertMetrics(t, svc)
  await assertFacts(t, svc)
})

/** The facts the run reported, read back by `history --json` and `status --json` and counted by the agent. */
async function assertFacts(t: Test, svc: TestService) {
  const history = await runHandover(['history', '--config', svc.configFile, '--json'])
  const [run] = (JSON.parse(history.stdout) as HistoryJson).runs
  t.match(run?.summary, { containersReplaced: 2, softDropsMade: 1, softDropsPurged: 1 }, 'history: both slots replaced, one soft drop made and purged')
  t.ok((run?.summary.statements ?? 0) >= 2 && run?.summary.pointOfNoReturnCrossedAt !== null && run?.summary.longestHoldSeconds !== null, 'history: statements, the crossing and the longest hold', { summary: run?.summary })
  const status = JSON.parse((await runHandover(['status', '--config', svc.configFile, '--json'])).stdout) as StatusJson
  const facts = status.lastRun?.facts ?? []
  t.same([...new Set(facts.filter((fact) => fact.type === 'container-replaced').map((fact) => fact.phase))], ['upgrade-standby', 'upgrade-old'], 'status: each replacement with the phase that made it')
  t.ok(facts.some((fact) => fact.type === 'statement-applied' && fact.part === 'expand' && fact.algorithm === 'INSTANT'), "status: the expand's statement with its algorithm")
  const text = await (await fetch(svc.agent.metricsUrl)).text()
  t.match(text, new RegExp(`handover_containers_replaced_total\\{service="${svc.name}",slot="green"\\} 1`), 'metrics count the replaced containers')
  t.match(text, new RegExp(`handover_migration_statements_total\\{service="${svc.name}",part="expand",algorithm="INSTANT",outcome="ran"\\} [1-9]`), 'metrics count statements by part and algorithm')
}

async function assertRowsInDatabase(t: Test, svc: TestService, written: { id: number; name: string }[]) {
  const [columns] = await svc.db.query<RowDataPacket[]>(
    'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position',
    [svc.schema, 'people'],
  )
  t.same(columns.map((row) => row.c), ['id', 'created_at', 'first_name', 'last_name'], 'the name column is gone')
  const [rows] = await svc.db.query<RowDataPacket[]>(`SELECT id, first_name, last_name FROM \`${svc.schema}\`.people`)
  const byId = new Map(rows.map((row) => [Number(row.id), `${row.first_name} ${row.last_name}`.trim()]))
  const wrong = written.filter((row) => byId.get(row.id) !== row.name)
  t.same(wrong, [], `all ${written.length} written rows are in the table with first/last names matching`)
  const [version] = await svc.db.query<RowDataPacket[]>(`SELECT version FROM \`${svc.schema}\`.app_version`)
  t.same(version.map((row) => row.version), ['2'], 'the version table says 2')
}

async function assertBothSlotsOnV2(t: Test, svc: TestService) {
  for (const slot of ['blue', 'green'] as const) {
    const info = await docker.getContainer(`handover-${svc.name}-${slot}`).inspect()
    t.equal(info.Config.Image, DEMO_IMAGES['2'], `${slot} runs ${DEMO_IMAGES['2']}`)
    t.ok(info.State.Running, `${slot} is running`)
    const answer = (await (await fetch(`http://127.0.0.1:${svc.slotPorts[slot]}/version`)).json()) as { version: string }
    t.equal(answer.version, '2', `${slot} answers version 2`)
  }
}

async function assertJournal(t: Test, svc: TestService) {
  const [runs] = await svc.db.query<RowDataPacket[]>(
    `SELECT id, state, point_of_no_return_passed AS ponr FROM ${JOURNAL_SCHEMA}.handover_runs WHERE service = ? ORDER BY started_at DESC`,
    [svc.name],
  )
  t.equal(runs.length, 1, 'one run journaled')
  t.equal(runs[0]!.state, 'succeeded', 'the run succeeded')
  t.equal(Number(runs[0]!.ponr), 1, 'the run records crossing the point of no return')
  const [steps] = await svc.db.query<RowDataPacket[]>(
    `SELECT phase, action, status, duration_ms FROM ${JOURNAL_SCHEMA}.handover_steps WHERE run_id = ? ORDER BY id`,
    [runs[0]!.id],
  )
  t.same(
    steps.map((row) => `${row.action} ${row.phase} ${row.status}`),
    STRICT_PHASES.map((phase) => `forward ${phase.name} completed`),
    'the journal shows every phase completed, in order',
  )
  t.ok(steps.every((row) => row.duration_ms !== null), 'every step has its duration')
}

async function assertMetrics(t: Test, svc: TestService) {
  const text = await (await fetch(svc.agent.metricsUrl)).text()
  for (const phase of STRICT_PHASES) {
    t.match(text, new RegExp(`handover_upgrade_phase_duration_seconds_count\\{[^}]*service="${svc.name}"[^}]*phase="${phase.name}"[^}]*\\} 1`), `metrics have ${phase.name}'s duration`)
  }
  t.match(text, new RegExp(`handover_upgrades_total\\{[^}]*service="${svc.name}"[^}]*result="succeeded"[^}]*\\} 1`), 'metrics count the succeeded upgrade')
  t.match(text, new RegExp(`handover_proxy_requests_total\\{[^}]*service="${svc.name}"[^}]*slot="green"[^}]*code="200"`), 'metrics count requests by slot and status')
}
