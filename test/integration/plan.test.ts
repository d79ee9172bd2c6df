/**
 * `handover plan` against the real MariaDB: the current version is read from the schema,
 * the chain is chosen over singles and bundles, rehearsed on a copy, and a gap is named.
 */
import t, { type Test } from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { columnsOf, createTestDatabase, type TestDatabase } from '../support/test-database.js'
import { configYaml, MIGRATIONS_DIR } from '../../scripts/lib/throwaway-service.js'

const PLANNER_FIXTURES = fileURLToPath(new URL('../fixtures/planner', import.meta.url))

async function withSchemaAt(t: Test, version: string, migrationsDir: string): Promise<{ test: TestDatabase; config: string }> {
  const test = await createTestDatabase('plan')
  t.teardown(test.cleanup)
  await test.db.query('CREATE TABLE people (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(200) NOT NULL); CREATE TABLE app_version (version VARCHAR(64) NOT NULL)')
  await test.db.query('INSERT INTO app_version VALUES (?)', [version])
  const dir = t.testdir({})
  const config = join(dir, 'handover.yaml')
  writeFileSync(config, configYaml({ name: 'plan-test', schema: test.schema, dir, proxyPort: 1, blue: 2, green: 3, maxWaitSeconds: 1, migrationsDir }).replace('handover_test_journal', test.journalSchema))
  return { test, config }
}

t.test('plans the demo upgrade with each statement and its algorithm', async (t) => {
  const { test, config } = await withSchemaAt(t, '1', MIGRATIONS_DIR)
  const result = await runHandover(['plan', '--config', config, '--version', '2'])
  t.equal(result.code, 0, 'plan succeeds', { output: result.stdout + result.stderr })
  t.match(result.stdout, `schema ${test.schema}: 1 → 2 in 1 script(s)`)
  t.match(result.stdout, /v2\.sql {2}1 → 2/)
  t.match(result.stdout, /expand +line \d+ +ALTER TABLE people ADD COLUMN first_name .*\(add-column\) +\[INSTANT\]/)
  t.match(result.stdout, /contract +line \d+ +ALTER TABLE people DROP COLUMN name \(drop-column\) +\[INSTANT\] +\[kept as _handover_name until finalize\]/)
  t.same(await columnsOf(test.db, test.schema, 'people'), ['id', 'name'], 'the real schema is unchanged')
})

t.test('over singles and bundles, the fewest scripts; a gap is named', async (t) => {
  const { config } = await withSchemaAt(t, '2.1', PLANNER_FIXTURES)
  const chain = await runHandover(['plan', '--config', config, '--version', '3.2.1'])
  t.equal(chain.code, 0, 'plan succeeds', { output: chain.stdout + chain.stderr })
  t.match(chain.stdout, /2\.1 → 3\.2\.1 in 2 script\(s\)/)
  t.match(chain.stdout, /v2\.8\.1\.sql {2}2\.1 → 2\.8\.1\n/)
  t.match(chain.stdout, /v2\.8\.1-v3\.2\.1\.sql {2}2\.8\.1 → 3\.2\.1, a bundle standing in for v2\.9\.sql, v3\.0\.sql, v3\.1\.sql, v3\.2\.1\.sql/)

  const gap = await runHandover(['plan', '--config', config, '--version', '5.10.0'])
  t.equal(gap.code, 1, 'no chain: exit 1')
  t.match(gap.stderr, /\[NO_MIGRATION_CHAIN\] no chain of migration scripts leads from 2\.1 to 5\.10\.0: the scripts reach 3\.2\.1 at most, and nothing covers 3\.2\.1 → 4\.0/)

  const done = await runHandover(['plan', '--config', config, '--version', '2'])
  t.equal(done.code, 0)
  t.match(done.stdout, /at version 2\.1, the target is 2: nothing to do/)
})

t.test('an unmarked script is split with the live column types: widening is expand, narrowing contract', async (t) => {
  // Not t.testdir: withSchemaAt takes this test's one testdir for the config.
  const migrations = mkdtempSync(join(tmpdir(), 'handover-plan-'))
  t.teardown(() => rmSync(migrations, { recursive: true, force: true }))
  writeFileSync(join(migrations, 'v2.sql'), 'ALTER TABLE people MODIFY name VARCHAR(300) NOT NULL;\nALTER TABLE people ADD COLUMN nick VARCHAR(20) NULL;\n')
  writeFileSync(join(migrations, 'v3.sql'), 'ALTER TABLE people MODIFY name VARCHAR(100) NOT NULL;\n')
  const { config } = await withSchemaAt(t, '1', migrations)
  const widen = await runHandover(['plan', '--config', config, '--version', '2'])
  t.equal(widen.code, 0, 'plan succeeds', { output: widen.stdout + widen.stderr })
  t.match(widen.stdout, /expand +line 1 +ALTER TABLE people MODIFY name VARCHAR\(300\) NOT NULL \(widen-column\)/, 'VARCHAR(200) to 300 widens: expand')
  t.match(widen.stdout, /expand +line 2 +ALTER TABLE people ADD COLUMN nick VARCHAR\(20\) NULL \(add-column\)/)
  const narrow = await runHandover(['plan', '--config', config, '--version', '3'])
  t.equal(narrow.code, 0, 'a narrowing the server refuses rather than truncates is allowed', { output: narrow.stdout + narrow.stderr })
  t.match(narrow.stdout, /contract +line 1 +ALTER TABLE people MODIFY name VARCHAR\(100\) NOT NULL \(narrow-column\).*\[undo: the table definition before it, put back\]/, 'contract, undone by its definition')
  writeFileSync(join(migrations, 'v4.sql'), 'ALTER TABLE people MODIFY name CHAR(100) NOT NULL;\n')
  const rounds = await runHandover(['plan', '--config', config, '--version', '4'])
  t.equal(rounds.code, 1, 'a change of type (stored values change: CHAR pads) cannot be undone by handover: refused')
  t.match(rounds.stderr, /v4\.sql:1 \(change-column-type\): this contract change has no undo handover can derive .*give a `-- handover:contract-undo` that reverses it/)
})

t.test('the plan says how a backfill runs and how long the contract holds requests; past maxWaitSeconds it is refused', async (t) => {
  const migrations = mkdtempSync(join(tmpdir(), 'handover-plan-'))
  t.teardown(() => rmSync(migrations, { recursive: true, force: true }))
  const { test, config } = await withSchemaAt(t, '1', migrations)
  await test.db.query(`INSERT INTO people (id, name) SELECT seq, CONCAT('n', seq) FROM seq_1_to_200000; ANALYZE TABLE people`)
  // A captured backfill costs the contract nothing; a narrowing copies the whole table while requests are held.
  writeFileSync(join(migrations, 'v2.sql'), `ALTER TABLE people ADD COLUMN upper_name VARCHAR(200) NULL;
UPDATE people SET upper_name = UPPER(name) WHERE upper_name IS NULL;
`)
  writeFileSync(join(migrations, 'v3.sql'), `-- handover:contract
ALTER TABLE people MODIFY name VARCHAR(100) NOT NULL;
-- handover:contract-undo
ALTER TABLE people MODIFY name VARCHAR(200) NOT NULL;
`)
  const online = await runHandover(['plan', '--config', config, '--version', '2'])
  t.equal(online.code, 0, 'a captured backfill: allowed', { output: online.stdout + online.stderr })
  t.match(online.stdout, /UPDATE people SET upper_name = UPPER\(name\).*\[online, in key-range chunks; old version's writes applied by triggers\]/)
  t.match(online.stdout, /contract +line 2 +UPDATE people .*\[not run: the capture of its backfill keeps the rows in step\]/)
  t.match(online.stdout, /the contract holds requests for about 0\.0 s/)

  const rebuilt = await runHandover(['plan', '--config', config, '--version', '3'])
  t.equal(rebuilt.code, 0, 'a table copy in the contract on a table of its own: rebuilt online, allowed', { output: rebuilt.stdout + rebuilt.stderr })
  t.match(rebuilt.stdout, /ALTER TABLE people MODIFY name VARCHAR\(100\).*\[rebuilt beside the table during the expand; the contract swaps it in\]/)

  // A table in a foreign key cannot be swapped by a RENAME (the key would follow the old table): the copy blocks.
  await test.db.query('CREATE TABLE pets (id INT PRIMARY KEY, owner BIGINT NOT NULL, FOREIGN KEY (owner) REFERENCES people (id)) ENGINE=InnoDB')
  const blocking = await runHandover(['plan', '--config', config, '--version', '3'])
  t.equal(blocking.code, 1, 'a table copy in the contract longer than maxWaitSeconds (1 s): refused')
  // The estimate follows the server's row count, itself an estimate: its value varies a little from run to run.
  t.match(blocking.stdout, /ALTER TABLE people MODIFY name VARCHAR\(100\).*\[COPY: copies the table, blocking writes\] +\[while requests are held: ~\d+\.\d s\]/)
  const refusal = /refused: the contract would hold requests for about (\d+\.\d) s, longer than proxy\.buffer\.maxWaitSeconds \(1 s\): v3\.sql:2 rebuilds the table \(COPY\) people \(~[\d,]+ rows, ~\d+\.\d s\)/.exec(blocking.stderr)
  t.ok(refusal, 'refused, naming the statement, the table, its rows and the estimate', { stderr: blocking.stderr })
  t.ok(Number(refusal?.[1]) > 1, `the estimate (${refusal?.[1]} s) is above maxWaitSeconds`)
  t.same(await columnsOf(test.db, test.schema, 'people'), ['id', 'name'], 'the real schema is unchanged')
  const [tables] = await test.db.query<RowDataPacket[]>('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY name', [test.schema])
  t.same(tables.map((row) => row.name), ['app_version', 'people', 'pets'], 'and no shadow table was made')
})

t.test('a script that switches schema with USE is refused by plan before the rehearsal, and the live schema is untouched', async (t) => {
  const migrations = mkdtempSync(join(tmpdir(), 'handover-plan-'))
  t.teardown(() => rmSync(migrations, { recursive: true, force: true }))
  const { test, config } = await withSchemaAt(t, '1', migrations)
  writeFileSync(join(migrations, 'v2.sql'), `-- handover:expand\nUSE ${test.schema};\nCREATE TABLE sneaky (id INT PRIMARY KEY);\n-- handover:expand-undo\nDROP TABLE IF EXISTS sneaky;\n`)
  const plan = await runHandover(['plan', '--config', config, '--version', '2'])
  t.equal(plan.code, 2, 'refused as bad input (exit 2: nothing changed)', { output: plan.stdout + plan.stderr })
  t.match(plan.stderr, /\[INVALID_INPUT\] .*v2\.sql:2: USE switches the schema/)
  const [tables] = await test.db.query<RowDataPacket[]>('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY name', [test.schema])
  t.same(tables.map((row) => row.name), ['app_version', 'people'], 'no table was created in the live schema')
})

t.test('a script that names the live schema explicitly cannot change it during plan: the rehearsal runs it in its copy, as a user granted only the copy', async (t) => {
  const migrations = mkdtempSync(join(tmpdir(), 'handover-plan-'))
  t.teardown(() => rmSync(migrations, { recursive: true, force: true }))
  const { test, config } = await withSchemaAt(t, '1', migrations)
  writeFileSync(
    join(migrations, 'v2.sql'),
    `CREATE TABLE \`${test.schema}\`.sneaky (id INT PRIMARY KEY);\nALTER TABLE ${test.schema}.people ADD COLUMN nickname VARCHAR(40) NULL;\nINSERT INTO ${test.schema}.sneaky (id) VALUES (1);\nCREATE INDEX by_name ON ${test.schema}.people (name);\n`,
  )
  const plan = await runHandover(['plan', '--config', config, '--version', '2'])
  t.equal(plan.code, 0, 'the statements are planned as statements of database.schema', { output: plan.stdout + plan.stderr })
  t.match(plan.stdout, /expand +line 2 +ALTER TABLE people ADD COLUMN nickname/, 'the qualifier is gone from what runs')
  t.match(plan.stdout, /expand +line 4 +CREATE INDEX by_name ON people \(name\) \(add-index\) +\[NOCOPY\]/, 'a CREATE INDEX gets the algorithm the server takes for it')
  const [tables] = await test.db.query<RowDataPacket[]>('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY name', [test.schema])
  t.same(tables.map((row) => row.name), ['app_version', 'people'], 'no table was created in the live schema')
  t.same(await columnsOf(test.db, test.schema, 'people'), ['id', 'name'], 'and no column added')
  writeFileSync(join(migrations, 'v2.sql'), 'ALTER TABLE people ADD COLUMN nickname VARCHAR(40) NULL;\n\nCREATE TABLE elsewhere_db.audit (id INT PRIMARY KEY);\n')
  const other = await runHandover(['plan', '--config', config, '--version', '2'])
  t.equal(other.code, 2, 'another schema is refused as bad input', { output: other.stdout + other.stderr })
  t.match(other.stderr, /v2\.sql:3: names the schema elsewhere_db/)
})

t.test('a contract data change on a table with triggers is refused by plan, before anything runs: its undo could not copy what they write', async (t) => {
  const migrations = mkdtempSync(join(tmpdir(), 'handover-plan-'))
  t.teardown(() => rmSync(migrations, { recursive: true, force: true }))
  writeFileSync(join(migrations, 'v2.sql'), 'UPDATE people SET name = UPPER(name);\n')
  const { test, config } = await withSchemaAt(t, '1', migrations)
  const plain = await runHandover(['plan', '--config', config, '--version', '2'])
  t.equal(plain.code, 0, 'without a trigger the data change is undone from a copy of its rows', { output: plain.stdout + plain.stderr })
  t.match(plain.stdout, /\[undo: the rows before it, from a copy taken while requests are held\]/)
  await test.db.query(`CREATE TABLE \`${test.schema}\`.audit (id BIGINT AUTO_INCREMENT PRIMARY KEY, person BIGINT NOT NULL)`)
  await test.db.query(`CREATE TRIGGER \`${test.schema}\`.people_audit AFTER UPDATE ON \`${test.schema}\`.people FOR EACH ROW INSERT INTO \`${test.schema}\`.audit (person) VALUES (NEW.id)`)
  const refused = await runHandover(['plan', '--config', config, '--version', '2'])
  t.equal(refused.code, 1, 'plan refuses', { output: refused.stdout + refused.stderr })
  t.match(refused.stderr, /refused: v2\.sql:1 \(dml\): people has trigger people_audit: what a trigger writes has no copy, so handover cannot undo this data change; mark the script and give a `-- handover:contract-undo`/)
})
