/**
 * What must hold after a cut-off upgrade was taken over: the service on v2 everywhere, the
 * run finished in the journal, and the clients' view: no request failed except those the
 * proxy refused with 503 + Retry-After (a client is told to try again), no write lost.
 */
import type { Test } from 'tap'
import Docker from 'dockerode'
import type { RowDataPacket } from 'mysql2/promise'
import { verifyRows, type LoadReport } from '../../scripts/lib/load-generator.js'
import { runRow } from '../../scripts/lib/killed-upgrade.js'
import type { TestService } from '../../scripts/lib/throwaway-service.js'

const docker = new Docker()

export async function assertSlotsOn(t: Test, svc: TestService, image: string, version: string): Promise<void> {
  for (const slot of ['blue', 'green'] as const) {
    const info = await docker.getContainer(`handover-${svc.name}-${slot}`).inspect()
    t.equal(info.Config.Image, image, `${slot} runs ${image}`)
    t.ok(info.State.Running, `${slot} is running`)
    const answer = (await (await fetch(`http://127.0.0.1:${svc.slotPorts[slot]}/version`)).json()) as { version: string }
    t.equal(answer.version, version, `${slot} answers version ${version}`)
  }
}

export async function schemaVersion(svc: TestService): Promise<string[]> {
  const [rows] = await svc.db.query<RowDataPacket[]>(`SELECT version FROM \`${svc.schema}\`.app_version`)
  return rows.map((row) => String(row.version))
}

/** The failures other than 503 + Retry-After must be none; returns how many 503s there were. */
export function assertOnlyRetryable(t: Test, report: LoadReport): number {
  t.equal(report.failures.length, report.failed, 'every failure is kept in detail')
  const retryable = report.failures.filter((failure) => failure.status === 503 && failure.retryAfter !== undefined)
  const other = report.failures.filter((failure) => !retryable.includes(failure))
  t.same(other, [], `no request failed other than 503 + Retry-After (${retryable.length} of those, of ${report.sent} requests)`)
  return retryable.length
}

export async function assertRowsReadBack(t: Test, svc: TestService, report: LoadReport): Promise<void> {
  const check = await verifyRows(svc.proxyUrl, report.written, { deleted: report.deleted })
  t.equal(check.checked, report.written.length, `every written row was checked (${report.written.length})`)
  t.same([check.missing, check.wrong, check.undeleted, check.errors], [[], [], [], []], 'every row reads back with its last name, every delete stays deleted')
}

export async function assertRunState(t: Test, svc: TestService, state: string): Promise<string> {
  const run = await runRow(svc)
  t.equal(run.state, state, `the journal's run is ${state}`)
  return run.id
}
