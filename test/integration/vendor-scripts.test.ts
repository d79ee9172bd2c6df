/**
 * Real products' upgrade scripts, as their vendors ship them (test/fixtures/products, see
 * its README), on the real MariaDB: each release's own create script is loaded, a version
 * row added, then `migrate lint`, `plan` and the upgrade's own executor run the chain, and
 * the schema is compared with the newer release's create script.
 */
import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type mysql from 'mysql2/promise'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { loadConfig } from '../../src/config/load-config.js'
import { dumpSchema, restoreBackup } from '../../src/db/backup.js'
import { forgetHistoryAbove } from '../../src/db/migrations/history-consistency.js'
import { ensureMigrationTables, serviceExecutor } from '../../src/db/migrations/service-executor.js'
import { readSchemaVersion, writeSchemaVersion } from '../../src/db/migrations/versions/version-table.js'
import { parseVersion } from '../../src/db/migrations/versions/version.js'
import { planScripts, planUpgrade, staleHistory } from '../../src/upgrade/planning/plan-upgrade.js'
import { createTestDatabase, type TestDatabase } from '../support/test-database.js'
import { byHand, keysSorted, loadCreateScript, PRODUCTS, releaseSchema, schemaOf } from '../support/vendor-products.js'
import { configYaml } from '../../scripts/lib/throwaway-service.js'

interface Product {
  test: TestDatabase
  configFile: string
}

/** A schema at `release` from the product's own create script, with a version row handover reads. */
async function productAt(t: Test, product: string, release: string, extraConfig = ''): Promise<Product> {
  const test = await createTestDatabase('vendor')
  t.teardown(test.cleanup)
  await loadCreateScript(test.db, test.schema, join(PRODUCTS, product, 'releases', `create-${release}.sql`))
  await test.db.query(`CREATE TABLE \`${test.schema}\`.app_version (version VARCHAR(64) NOT NULL)`)
  await test.db.query(`INSERT INTO \`${test.schema}\`.app_version VALUES (?)`, [release])
  const dir = t.testdir({})
  const configFile = join(dir, 'handover.yaml')
  const yaml = configYaml({ name: `vendor-${product.replace(/\W/g, '-')}`.slice(0, 40), schema: test.schema, dir, proxyPort: 1, blue: 2, green: 3, maxWaitSeconds: 60, migrationsDir: join(PRODUCTS, product, 'migrations') })
  writeFileSync(configFile, yaml.replace('handover_test_journal', test.journalSchema).replace(`migrations:\n  dir:`, `migrations:${extraConfig}\n  dir:`))
  return { test, configFile }
}

/** What `handover upgrade` runs against the database: expand, contract, the version write. */
async function upgradeSchema(product: Product, target: string): Promise<string[]> {
  const config = loadConfig(product.configFile)
  const { db } = product.test
  await ensureMigrationTables(db as never, config.database.journalSchema)
  const current = await readSchemaVersion(db as never, config.database, config.migrations.versions)
  const scripts = (await planScripts(db as never, config, current, parseVersion(target, 'test', config.migrations.versions))).map((step) => step.script)
  const executor = serviceExecutor(db as never, config.database, config.service.name, 'vendor-test')
  await executor.applyPart(scripts, 'expand')
  await executor.applyPart(scripts, 'contract')
  await writeSchemaVersion(db as never, config.database, target)
  // What finalize does with no retention: the copies of rows and the soft-dropped objects go.
  await executor.dropRowSnapshots()
  await executor.purgeSoftDrops(0)
  return scripts.map((script) => script.name)
}

/** Every table's rows, for comparing data before an upgrade and after its undo. */
async function rowsOf(db: mysql.Connection, schema: string): Promise<string> {
  const [tables] = await db.query<mysql.RowDataPacket[]>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name", [schema])
  const all: Record<string, unknown> = {}
  for (const { t: table } of tables) all[String(table)] = (await db.query<mysql.RowDataPacket[]>(`SELECT * FROM \`${schema}\`.\`${table}\` ORDER BY 1`))[0]
  return JSON.stringify(all)
}

/**
 * Each product from its oldest create script here to its newest release: plan allows the
 * whole chain (every release a step); the forward run ends at exactly the schema the same
 * scripts give when run by hand; and the chain's undo (contract, then expand) brings back
 * the old release's tables, columns, keys and every row (the expand's widenings stay, by
 * design: the old version works with them).
 */
const CHAINS = [
  { product: 'guacamole', from: '0.9.9', to: '1.6.0', extra: '', scripts: 6 },
  { product: 'apollo/config', from: '1.7.0', to: '2.5.2', extra: '\n  schemaAliases: [ApolloConfigDB]\n  releasesWithoutScripts: [2.5.0, 2.5.1, 2.5.2]', scripts: 10 },
  { product: 'apollo/portal', from: '1.7.0', to: '2.5.2', extra: '\n  schemaAliases: [ApolloPortalDB]\n  releasesWithoutScripts: [2.1.0, 2.5.0, 2.5.1, 2.5.2]', scripts: 10 },
  { product: 'spring-batch', from: '4.2.8', to: '6.0.4', extra: '\n  releasesWithoutScripts: [6.0.1, 6.0.2, 6.0.3, 6.0.4]', scripts: 7 },
]

/** Tables, column names in order, keys and constraints: what an undo must bring back (column types may stay wider). */
function shapeOf(schema: Record<string, string>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(keysSorted(schema)).map(([table, text]) => [table, text.split('\n').map((line) => (/^\s+`/.test(line) ? line.trim().split(' ')[0]! : line.trim().replace(/,$/, '')))]))
}

for (const chain of CHAINS) {
  t.test(`${chain.product} ${chain.from} → ${chain.to}, every script as shipped: planned, run to the schema the scripts give by hand, and undone`, async (t) => {
    const product = await productAt(t, chain.product, chain.from, chain.extra)
    const plan = await runHandover(['plan', '--config', product.configFile, '--version', chain.to])
    t.equal(plan.code, 0, 'plan allows the whole chain', { output: plan.stdout + plan.stderr })
    t.match(plan.stdout, new RegExp(`${chain.from.replace(/\./g, '\\.')} → ${chain.to.replace(/\./g, '\\.')} in ${chain.scripts} script\\(s\\)`))
    const { db, schema } = { db: product.test.db, schema: product.test.schema }
    const before = await schemaOf(db, schema, [])
    const beforeRows = await rowsOf(db, schema)

    const config = loadConfig(product.configFile)
    await ensureMigrationTables(db as never, config.database.journalSchema)
    const scripts = (await planScripts(db as never, config, parseVersion(chain.from, 'test', config.migrations.versions), parseVersion(chain.to, 'test', config.migrations.versions))).map((step) => step.script)
    t.equal(scripts.length, chain.scripts)
    const executor = serviceExecutor(db as never, config.database, config.service.name, 'vendor-undo')
    await executor.applyPart(scripts, 'expand')
    await executor.applyPart(scripts, 'contract')
    await executor.undoPart(scripts, 'contract', 'contract-undo')
    await executor.undoPart(scripts, 'expand', 'expand-undo')
    t.same(shapeOf(await schemaOf(db, schema, [])), shapeOf(before), `the undo of the whole chain brings back ${chain.from}'s tables, columns and keys`)
    t.equal(await rowsOf(db, schema), beforeRows, 'and every row')

    await upgradeSchema(product, chain.to)
    const withScripts = scripts.filter((script) => script.parts.expand.length + script.parts.contract.length > 0).map((script) => script.name)
    t.same(keysSorted(await schemaOf(db, schema)), keysSorted(await byHand(t, chain.product, chain.from, withScripts)), 'the schema is the one the scripts give by hand')
  })
}
t.test('Guacamole 1.0.0 → 1.6.0: the ENUM value inserted mid-list is expand; the schema equals 1.6.0 create script', async (t) => {
  const product = await productAt(t, 'guacamole', '1.0.0')
  const lint = await runHandover(['migrate', 'lint', '--config', product.configFile, '--schema', join(PRODUCTS, 'guacamole', 'releases', 'create-1.0.0.sql'), '--from', '1.0.0'])
  t.equal(lint.code, 0, 'lint against the 1.0.0 create script finds no error', { output: lint.stdout })
  t.match(lint.stdout, /v1\.6\.0\.sql:24 {2}expand widen-column: widens guacamole_system_permission\.permission from ENUM\(.*'CREATE_USER_GROUP','ADMINISTER'\) to ENUM\(.*'CREATE_USER_GROUP','AUDIT','ADMINISTER'\)/, 'lint classes the mid-list ENUM value as a widening', { output: lint.stdout })
  const plan = await runHandover(['plan', '--config', product.configFile, '--version', '1.6.0'])
  t.equal(plan.code, 0, 'plan allows it', { output: plan.stdout + plan.stderr })
  t.match(plan.stdout, /v1\.6\.0\.sql {2}1\.0\.0 → 1\.6\.0/)
  t.match(plan.stdout, /expand +line 24 .*\(widen-column\)/)
  const ran = await upgradeSchema(product, '1.6.0')
  t.same(ran, ['v1.6.0.sql'], 'releases 1.1.0 to 1.5.5 had no script: one step')
  t.same(await schemaOf(product.test.db, product.test.schema), await releaseSchema(t, 'guacamole', '1.6.0'), "the schema equals 1.6.0's own create script")
})

t.test("Spring Batch 4.2.8 → 4.3.0 runs as written and equals 4.3's create script; a change that would round stored values is refused naming the statement, why and what to mark", async (t) => {
  const product = await productAt(t, 'spring-batch', '4.2.8')
  const plan = await runHandover(['plan', '--config', product.configFile, '--version', '4.3.0'])
  t.equal(plan.code, 0, 'plan allows 4.3.0', { output: plan.stdout + plan.stderr })
  t.same(await upgradeSchema(product, '4.3.0'), ['v4.3.0.sql'])
  t.same(await schemaOf(product.test.db, product.test.schema), await releaseSchema(t, 'spring-batch', '4.3.10'), "the schema equals 4.3's own create script")

  // Fewer fractional seconds: the server rounds every stored time in place, so no definition brings them back.
  const migrations = mkdtempSync(join(tmpdir(), 'vendor-rounding-'))
  t.teardown(() => rmSync(migrations, { recursive: true, force: true }))
  writeFileSync(join(migrations, 'v4.3.1.sql'), 'ALTER TABLE BATCH_STEP_EXECUTION MODIFY START_TIME DATETIME(3) NOT NULL;\n')
  writeFileSync(product.configFile, readFileSync(product.configFile, 'utf8').replace(join(PRODUCTS, 'spring-batch', 'migrations'), migrations))
  const refused = await runHandover(['plan', '--config', product.configFile, '--version', '4.3.1'])
  t.equal(refused.code, 1, 'plan refuses 4.3.1')
  t.match(refused.stderr, /v4\.3\.1\.sql:1 \(narrow-column\): this contract change has no undo handover can derive \(narrows BATCH_STEP_EXECUTION\.START_TIME from DATETIME\(6\) to DATETIME\(3\).*give a `-- handover:contract-undo`/)
  t.notMatch(refused.stderr, /REHEARSAL_FAILED|expand-undo\) fails/, 'not a misleading rehearsal failure of an undo')
})

t.test('Apollo config DB: USE of the vendor schema name is no statement with schemaAliases; every finding of the chain is reported at once', async (t) => {
  const product = await productAt(t, 'apollo/config', '1.7.0', '\n  schemaAliases: [ApolloConfigDB]\n  releasesWithoutScripts: [2.5.0, 2.5.1, 2.5.2]')
  const plan = await runHandover(['plan', '--config', product.configFile, '--version', '2.5.2'])
  t.notMatch(plan.stderr, /USE switches|UNCLASSIFIABLE|UNPARSEABLE|MIGRATIONS_REFUSED|NO_MIGRATION_CHAIN/, 'every statement is classified', { output: plan.stdout + plan.stderr })
  t.match(plan.stdout, /1\.7\.0 → 2\.5\.2 in 10 script\(s\)/, 'each release without a script is a step of its own')
  t.match(plan.stdout, /v2\.5\.0 \(no schema change\) {2}2\.4\.0 → 2\.5\.0/)
  t.match(plan.stdout, /v2\.5\.0 \(no schema change\)/)
})

t.test('restore then upgrade: the history is reset to the dump, so the upgrade runs the statements again; a stale history is refused', async (t) => {
  const product = await productAt(t, 'guacamole', '1.0.0')
  const config = loadConfig(product.configFile)
  const { db } = product.test
  const backups = mkdtempSync(join(tmpdir(), 'vendor-backups-'))
  t.teardown(() => rmSync(backups, { recursive: true, force: true }))
  const dump = await dumpSchema(db as never, config.database, backups, 'before')
  await upgradeSchema(product, '1.6.0')
  await restoreBackup(config.database, dump.file)
  const scripts = (await planScripts(db as never, config, [1, 0, 0], [1, 6, 0])).map((step) => step.script)
  // The expand statement added nothing the lookup can see (an ENUM widening); make the history contradict the schema visibly.
  await db.query(`INSERT INTO \`${config.database.journalSchema}\`.handover_migrations (service, script, part, statement_index, checksum, applied_at, duration_ms) VALUES (?, 'v1.6.0.sql', 'expand', 99, 'x', NOW(), 0)`, [config.service.name])
  const forgotten = await forgetHistoryAbove(db as never, config.database.journalSchema, config.service.name, await readSchemaVersion(db as never, config.database), config.migrations.versions)
  t.same(forgotten, ['v1.6.0.sql'], 'the history of the script above the restored version is forgotten')
  const [rows] = await db.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${config.database.journalSchema}\`.handover_migrations WHERE service = ?`, [config.service.name])
  t.equal(Number(rows[0]!.n), 0)
  const plan = await planUpgrade(config, '1.6.0')
  t.same(plan.staleHistory, [])
  t.ok(plan.rehearsed.some((s) => s.script === 'v1.6.0.sql' && s.part === 'expand' && !s.skipped), 'plan lists the statement as about to run')
  t.same(await upgradeSchema(product, '1.6.0'), ['v1.6.0.sql'])
  t.same(await schemaOf(db, product.test.schema), await releaseSchema(t, 'guacamole', '1.6.0'), 'the upgrade after the restore changed the schema again')
  t.ok(scripts.length === 1)
})

t.test('a history that says a statement ran whose column the schema lacks is refused by plan and upgrade', async (t) => {
  const test = await createTestDatabase('vendorstale')
  t.teardown(test.cleanup)
  await test.db.query('CREATE TABLE people (id INT PRIMARY KEY); CREATE TABLE app_version (version VARCHAR(64) NOT NULL); INSERT INTO app_version VALUES (1)')
  const dir = t.testdir({ migrations: { 'v2.sql': 'ALTER TABLE people ADD COLUMN nick VARCHAR(20) NULL;\n' } })
  const configFile = join(dir, 'handover.yaml')
  writeFileSync(configFile, configYaml({ name: 'vendor-stale', schema: test.schema, dir, proxyPort: 1, blue: 2, green: 3, maxWaitSeconds: 60, migrationsDir: join(dir, 'migrations') }).replace('handover_test_journal', test.journalSchema))
  const config = loadConfig(configFile)
  await ensureMigrationTables(test.db as never, test.journalSchema)
  await test.db.query(`INSERT INTO \`${test.journalSchema}\`.handover_migrations (service, script, part, statement_index, checksum, applied_at, duration_ms) VALUES ('vendor-stale', 'v2.sql', 'expand', 0, 'x', NOW(), 0)`)
  const scripts = (await planScripts(test.db as never, config, [1], [2])).map((step) => step.script)
  t.same(await staleHistory(test.db as never, config, scripts), [`v2.sql:1 (expand) is recorded as applied but column people.nick is not in ${test.schema}`])
  const plan = await runHandover(['plan', '--config', configFile, '--version', '2'])
  t.equal(plan.code, 1, 'plan refuses')
  t.match(plan.stderr, /the migration history and the schema disagree: v2\.sql:1 \(expand\) is recorded as applied but column people\.nick is not in/)
})
