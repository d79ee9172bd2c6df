/**
 * Real vendors' upgrade scripts through a real `handover upgrade`: the product's schema at an
 * old release from its own create script, the service in both slots behind the agent's
 * proxy under load, upgraded to a newer release by the CLI. The service is the demo app tagged with the
 * product's versions (it serves people from a table of its own beside Guacamole's), so the
 * run's every phase (expand, flip, contract, finalize) happens while requests flow.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import mysql, { type RowDataPacket } from 'mysql2/promise'
import { dbPassword } from '../../scripts/lib/db-password.js'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { startLoad } from '../../scripts/lib/load-generator.js'
import { createTestService, JOURNAL_SCHEMA, removeLeftovers } from '../../scripts/lib/throwaway-service.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import { byHand, keysSorted, loadCreateScript, PRODUCTS, schemaOf } from '../support/vendor-products.js'

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

/** Whether the upgrade ran statements of this script (in the order of the chain, which file names sort into). */
function planned(output: string, script: string): boolean {
  return new RegExp(`(expand|contract) ${script.replace(/\./g, '\\.')}:\\d+ `).test(output)
}

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-vendor')
})

interface Stretch {
  product: string
  from: string
  to: string
  /** More of the migrations section of the config (the vendor's schema name, releases without a script). */
  migrationsExtra: string
  /** A contract statement of the vendor's that the upgrade's output names, with how its undo would go. */
  ran: RegExp
}

/** Each product from its oldest create script here to its newest release, every script as shipped. */
const STRETCHES: Stretch[] = [
  { product: 'guacamole', from: '0.9.9', to: '1.6.0', migrationsExtra: '', ran: /contract v1\.0\.0\.sql:154 / },
  { product: 'apollo/config', from: '1.7.0', to: '2.5.2', migrationsExtra: '\n  schemaAliases: [ApolloConfigDB]\n  releasesWithoutScripts: [2.5.0, 2.5.1, 2.5.2]', ran: /contract v2\.1\.0-v2\.2\.0\.sql:20 / },
  { product: 'apollo/portal', from: '1.7.0', to: '2.5.2', migrationsExtra: '\n  schemaAliases: [ApolloPortalDB]\n  releasesWithoutScripts: [2.1.0, 2.5.0, 2.5.1, 2.5.2]', ran: /contract v1\.8\.0-v1\.9\.0\.sql:71 / },
  { product: 'spring-batch', from: '4.2.8', to: '6.0.4', migrationsExtra: '\n  releasesWithoutScripts: [6.0.1, 6.0.2, 6.0.3, 6.0.4]', ran: /contract v6\.0\.0\.sql:2 / },
]

for (const { product, from: fromVersion, to: toVersion, migrationsExtra, ran } of STRETCHES) {
t.test(`${product} ${fromVersion} → ${toVersion} by \`handover upgrade\` under load through the proxy: 0 failed requests, the schema the scripts give by hand`, async (t) => {
  const [from, to] = [await tagRelease(product.replace('/', '-'), fromVersion), await tagRelease(product.replace('/', '-'), toVersion)]
  const svc = await createTestService('it-vendor', { migrationsDir: join(PRODUCTS, product, 'migrations'), migrationsExtra })
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
  t.match(upgrade.stdout, ran, "the vendor's contract statement ran")
  t.equal(report.failed, 0, 'no request failed', { failures: report.failures })
  const rate = report.sent / (report.durationMs / 1000)
  t.ok(rate >= 10, `at least 10 requests/s through the proxy (${rate.toFixed(0)}/s over ${report.sent} requests)`)
  t.ok((report.versions[fromVersion] ?? 0) > 0 && (report.versions[toVersion] ?? 0) > 0, `clients were served by ${fromVersion}, then by ${toVersion}`, { versions: report.versions })
  const scripts = readdirSync(join(PRODUCTS, product, 'migrations')).filter((name) => planned(upgrade.stdout, name))
  t.same(keysSorted(await schemaOf(svc.db, svc.schema, ['app_version', 'people'])), keysSorted(await byHand(t, product, fromVersion, scripts)), `the schema is the one the ${scripts.length} scripts give by hand`)
  const [version] = await svc.db.query<RowDataPacket[]>(`SELECT version FROM \`${svc.schema}\`.app_version`)
  t.same(version.map((row) => row.version), [toVersion], `the version table says ${toVersion}`)
  const [runs] = await svc.db.query<RowDataPacket[]>(`SELECT state FROM ${JOURNAL_SCHEMA}.handover_runs WHERE service = ?`, [svc.name])
  t.same(runs.map((row) => row.state), ['succeeded'], 'one run, succeeded')
  const [people] = await svc.db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${svc.schema}\`.people`)
  t.ok(Number(people[0]!.n) >= report.written.length, 'every acknowledged row is in the table')
})
}
