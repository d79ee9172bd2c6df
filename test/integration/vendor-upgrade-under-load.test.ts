/**
 * Real vendors' upgrade scripts through a real `handover upgrade`: the product's schema at an
 * old release from its own create script, the service in both slots behind the agent's
 * proxy under load, upgraded to a newer release by the CLI. The service is the demo app tagged with the
 * product's versions (it serves people from a table of its own beside Guacamole's), so the
 * run's every phase (expand, flip, contract, finalize) happens while requests flow.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import mysql, { type RowDataPacket } from 'mysql2/promise'
import { dbPassword } from '../../scripts/lib/db-password.js'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { startLoad } from '../../scripts/lib/load-generator.js'
import { createTestService, JOURNAL_SCHEMA, removeLeftovers } from '../../scripts/lib/throwaway-service.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import { loadCreateScript, PRODUCTS, releaseSchema, schemaOf } from '../support/vendor-products.js'

const run = promisify(execFile)
/** The demo app (v1, people with one name) answering `version` as the product release it stands in for. */
async function tagRelease(product: string, version: string): Promise<string> {
  const tag = `handover-vendor-${product}:${version}`
  const dockerfile = `FROM ${DEMO_IMAGES['1']}\nENV APP_VERSION=${version}\nLABEL org.opencontainers.image.version="${version}"\n`
  const build = run('docker', ['build', '-q', '-t', tag, '-'], { maxBuffer: 1024 * 1024 })
  build.child.stdin!.end(dockerfile)
  await build
  return tag
}

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-vendor')
})

interface Stretch {
  product: string
  from: string
  to: string
  /** The release whose create script the schema must equal afterwards. */
  reference: string
  /** A statement of the vendor's that the upgrade's output names. */
  ran: RegExp
}

const STRETCHES: Stretch[] = [
  { product: 'guacamole', from: '1.0.0', to: '1.6.0', reference: '1.6.0', ran: /expand v1\.6\.0\.sql:24 / },
  { product: 'spring-batch', from: '4.2.8', to: '4.3.0', reference: '4.3.10', ran: /expand v4\.3\.0\.sql:1 / },
]

for (const { product, from: fromVersion, to: toVersion, reference, ran } of STRETCHES) {
t.test(`${product} ${fromVersion} → ${toVersion} by \`handover upgrade\` under load through the proxy: 0 failed requests, the schema equals ${reference}'s create script`, async (t) => {
  const [from, to] = [await tagRelease(product, fromVersion), await tagRelease(product, toVersion)]
  const svc = await createTestService('it-vendor', { migrationsDir: join(PRODUCTS, product, 'migrations') })
  t.teardown(svc.cleanup)
  await svc.db.query(`CREATE DATABASE \`${svc.schema}\``)
  const loader = await mysql.createConnection({ host: '127.0.0.1', user: 'handover', password: dbPassword(), multipleStatements: true })
  await loadCreateScript(loader, svc.schema, join(PRODUCTS, product, 'releases', `create-${fromVersion}.sql`)).finally(() => loader.end())
  await svc.db.query(`CREATE TABLE \`${svc.schema}\`.people (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(200) NOT NULL, created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))`)
  await svc.db.query(`CREATE TABLE \`${svc.schema}\`.app_version (version VARCHAR(64) NOT NULL)`)
  await svc.db.query(`INSERT INTO \`${svc.schema}\`.app_version VALUES (?)`, [fromVersion])

  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', from])
  t.equal(deploy.code, 0, `deploy of ${fromVersion} succeeds`, { output: deploy.stdout + deploy.stderr })
  const load = startLoad({ baseUrl: svc.proxyUrl, concurrency: 4, maxDurationMs: 180_000, maxRequests: 500_000, postRatio: 0.5, updateRatio: 0.1 })
  await waitUntil(() => load.progress().written.length >= 50, 20_000, 'rows written before the upgrade')
  const upgrade = await runHandover(['upgrade', '--config', svc.configFile, '--image', to])
  const sentDuring = load.progress().sent
  await waitUntil(() => load.progress().sent >= sentDuring + 50, 20_000, 'requests answered after the upgrade')
  const report = await load.stop()

  t.equal(upgrade.code, 0, 'upgrade succeeds', { output: upgrade.stdout + upgrade.stderr })
  t.match(upgrade.stdout, ran, "the vendor's statement ran in the expand")
  t.equal(report.failed, 0, 'no request failed', { failures: report.failures })
  const rate = report.sent / (report.durationMs / 1000)
  t.ok(rate >= 10, `at least 10 requests/s through the proxy (${rate.toFixed(0)}/s over ${report.sent} requests)`)
  t.ok((report.versions[fromVersion] ?? 0) > 0 && (report.versions[toVersion] ?? 0) > 0, `clients were served by ${fromVersion}, then by ${toVersion}`, { versions: report.versions })
  t.same(await schemaOf(svc.db, svc.schema, ['app_version', 'people']), await releaseSchema(t, product, reference), `the schema equals ${reference}'s own create script`)
  const [version] = await svc.db.query<RowDataPacket[]>(`SELECT version FROM \`${svc.schema}\`.app_version`)
  t.same(version.map((row) => row.version), [toVersion], `the version table says ${toVersion}`)
  const [runs] = await svc.db.query<RowDataPacket[]>(`SELECT state FROM ${JOURNAL_SCHEMA}.handover_runs WHERE service = ?`, [svc.name])
  t.same(runs.map((row) => row.state), ['succeeded'], 'one run, succeeded')
  const [people] = await svc.db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${svc.schema}\`.people`)
  t.ok(Number(people[0]!.n) >= report.written.length, 'every acknowledged row is in the table')
})
}
