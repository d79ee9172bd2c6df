/**
 * One case of the crash matrix: the demo service under 16 clients creating, renaming and
 * deleting people; `handover upgrade` SIGKILLed at a kill point; then no command at all. The
 * case waits (bounded) for the run to end by itself and reads what a client and an operator
 * would see: failed requests, the longest time without a successful answer, acknowledged
 * writes lost, the version each slot serves, the version table and the journal's verdict.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { DEMO_IMAGES } from '../lib/demo-images.js'
import { runHandover } from '../lib/handover-process.js'
import { killWhenStarted, phaseStarted, runRow, spawnUpgrade, type UpgradeProcess } from '../lib/killed-upgrade.js'
import { startLoad, verifyRows } from '../lib/load-generator.js'
import { createTestService, JOURNAL_SCHEMA, type TestService } from '../lib/throwaway-service.js'
import { waitUntil } from '../lib/wait-until.js'
import { installStall, removeStall, stalled } from './journal-stall.js'
import type { KillPoint } from './kill-points.js'

const CLIENTS = 16
const RUN_END_BOUND_MS = 240_000

export interface CaseResult {
  name: string
  /** The journal's last step when the kill landed. */
  landedIn: string
  sent: number
  retryable: number
  otherFailures: number
  longestGapMs: number
  lost: number
  /** What each slot answers at the end, e.g. "2/2". */
  serving: string
  versionTable: string
  verdict: string
  /** From the kill to the run's end, with no command typed. */
  endedAfterMs: number | null
  ok: boolean
  problems: string[]
}

export async function runCrashCase(point: KillPoint): Promise<CaseResult> {
  const undoEnvironment = point.environment ? await point.environment() : undefined
  try {
    return await runInEnvironment(point)
  } finally {
    await undoEnvironment?.()
  }
}

async function runInEnvironment(point: KillPoint): Promise<CaseResult> {
  const migrationsDir = point.migrations?.(mkdtempSync(join(tmpdir(), 'crash-migrations-')))
  const svc = await createTestService('crash', { ...(migrationsDir ? { migrationsDir } : {}), ...(point.dbPort ? { dbPort: point.dbPort } : {}) })
  const undoPrepare = point.prepare ? await point.prepare(svc) : undefined
  try {
    return await crashAndWatch(svc, point)
  } finally {
    await removeStall(svc)
    await undoPrepare?.()
    await svc.cleanup()
  }
}

async function crashAndWatch(svc: TestService, point: KillPoint): Promise<CaseResult> {
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  if (deploy.code !== 0) throw new Error(`deploy failed: ${deploy.stderr}`)
  const load = startLoad({ baseUrl: svc.proxyUrl, concurrency: CLIENTS, maxDurationMs: 300_000, maxRequests: 2_000_000, postRatio: 0.35, updateRatio: 0.25, deleteRatio: 0.03, requestTimeoutMs: 60_000, maxFailureDetails: 100_000 })
  try {
    await waitUntil(() => load.progress().written.length >= 200, 30_000, 'rows written before the upgrade')
    if (point.stall) await installStall(svc, point.stall)
    const upgrade = spawnUpgrade(svc, DEMO_IMAGES['2'])
    const also = point.stall ? () => stalled(svc) : point.also ? () => point.also!(svc) : undefined
    const missed = await strikeWhenReached(svc, upgrade, point, also).then(
      () => undefined,
      (error: unknown) => (error as Error).message.split('\n')[0]!,
    )
    const killedAt = Date.now()
    if (point.stall) await removeStall(svc)
    const landedIn = missed === undefined ? await lastStep(svc) : `not killed: ${missed}`
    const endedAfterMs = await waitUntil(async () => (await runRow(svc)).state !== 'running', RUN_END_BOUND_MS, 'the run to end by itself', 250).then(
      () => Date.now() - killedAt,
      () => null,
    )
    const sentAtEnd = load.progress().sent
    await waitUntil(() => load.progress().sent >= sentAtEnd + 200, 20_000, 'requests after the run ended').catch(() => undefined)
    const report = await load.stop()
    const check = await verifyRows(svc.proxyUrl, report.written, { deleted: report.deleted })
    const retryable = report.failures.filter((failure) => failure.status === 503 && failure.retryAfter !== undefined).length
    const serving = await slotVersions(svc)
    const versionTable = await versionRow(svc)
    const verdict = (await runRow(svc)).state
    const lost = check.missing.length + check.wrong.length + check.undeleted.length + check.errors.length
    const problems = [
      // A part that is down (the agent, the database) answers no one: under a fault those failures are counted, not a target.
      ...(report.failed - retryable > 0 && !point.strike ? [`${report.failed - retryable} requests failed other than 503 + Retry-After`] : []),
      ...(lost > 0 ? [`${lost} acknowledged writes lost (${JSON.stringify({ missing: check.missing.slice(0, 3), wrong: check.wrong.slice(0, 3), undeleted: check.undeleted.slice(0, 3), errors: check.errors.slice(0, 3) })})`] : []),
      ...(report.longestGapMs >= 10_000 ? [`${report.longestGapMs} ms without a successful answer`] : []),
      ...(endedAfterMs === null ? ['the run did not end by itself'] : []),
      ...(missed === undefined ? [] : ['the kill point was not reached']),
      ...consistency(serving, versionTable, verdict),
    ]
    return { name: point.name, landedIn, sent: report.sent, retryable, otherFailures: report.failed - retryable, longestGapMs: report.longestGapMs, lost, serving, versionTable, verdict, endedAfterMs, ok: problems.length === 0, problems }
  } finally {
    await load.stop()
  }
}

/** Fully on one version: both slots answer it, the version table says it, and the journal's verdict matches it. */
function consistency(serving: string, versionTable: string, verdict: string): string[] {
  const [blue, green] = serving.split('/')
  if (blue !== green) return [`the slots serve different versions (${serving})`]
  if (blue !== versionTable) return [`the slots serve ${blue} but the version table says ${versionTable}`]
  const expected = verdict === 'succeeded' ? '2' : verdict === 'rolled_back' ? '1' : undefined
  if (expected === undefined) return [`the journal's verdict is ${verdict}`]
  return blue === expected ? [] : [`the journal says ${verdict} but the service is on ${blue}`]
}

/** The kill (or the point's own fault) once the phase started and `also` holds; fails if the upgrade ended first. */
async function strikeWhenReached(svc: TestService, upgrade: UpgradeProcess, point: KillPoint, also?: () => Promise<boolean>): Promise<void> {
  if (!point.strike) return killWhenStarted(svc, upgrade, point.phase, also)
  let gone = false
  void upgrade.exited.then(() => (gone = true))
  await waitUntil(async () => {
    if (gone) throw new Error(`the upgrade exited before ${point.phase} started`)
    return (await phaseStarted(svc, point.phase)) && (also === undefined || (await also()))
  }, 90_000, `${point.phase} to start`, 20)
  await point.strike(svc)
}

async function lastStep(svc: TestService): Promise<string> {
  const [rows] = await svc.db.query<RowDataPacket[]>(
    `SELECT s.phase, s.action FROM ${JOURNAL_SCHEMA}.handover_steps s JOIN ${JOURNAL_SCHEMA}.handover_runs r ON r.id = s.run_id WHERE r.service = ? ORDER BY s.id DESC LIMIT 1`,
    [svc.name],
  )
  return rows[0] ? `${rows[0].action === 'undo' ? 'undo ' : ''}${rows[0].phase}` : '(none)'
}

async function slotVersions(svc: TestService): Promise<string> {
  const versions: string[] = []
  for (const slot of ['blue', 'green'] as const) {
    const answer = await fetch(`http://127.0.0.1:${svc.slotPorts[slot]}/version`, { signal: AbortSignal.timeout(2000) })
      .then(async (response) => ((await response.json()) as { version: string }).version)
      .catch(() => 'down')
    versions.push(answer)
  }
  return versions.join('/')
}

async function versionRow(svc: TestService): Promise<string> {
  const [rows] = await svc.db.query<RowDataPacket[]>(`SELECT version FROM \`${svc.schema}\`.app_version`)
  return rows.map((row) => String(row.version)).join(',') || '(none)'
}
