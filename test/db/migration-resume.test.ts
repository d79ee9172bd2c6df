/**
 * Never twice: a process applying a script is killed between two statements (while the next
 * one waits for a table lock the test holds); a second run continues at the next unapplied
 * statement and runs nothing twice, data changes and DDL alike.
 */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import mysql, { type RowDataPacket } from 'mysql2/promise'
import { columnsOf, createTestDatabase, dbPassword } from '../support/test-database.js'
import { spawnApplyExpand } from '../support/apply-expand-process.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import { connect } from '../../src/db/connection.js'
import { BackfillProgressTable } from '../../src/db/capture/backfill-progress.js'
import { MigrationExecutor } from '../../src/db/migrations/migration-executor.js'
import { MigrationHistory } from '../../src/db/migrations/migration-history.js'
import { parseScript } from '../../src/db/migrations/scripts/migration-script.js'
import { ensureMigrationTables, serviceExecutor } from '../../src/db/migrations/service-executor.js'
import { SoftDropTable } from '../../src/db/migrations/undo/soft-drop-ledger.js'


t.test('a run killed between statements resumes at the next one, nothing runs twice', async (t) => {
  const test = await createTestDatabase('resume')
  t.teardown(test.cleanup)
  await test.db.query('CREATE TABLE counter (n INT NOT NULL); CREATE TABLE gate (n INT NOT NULL)')
  const migrations = t.testdir({})
  writeFileSync(
    join(migrations, 'v2.sql'),
    `-- handover:expand
INSERT INTO counter VALUES (1);
ALTER TABLE counter ADD COLUMN extra INT NULL;
INSERT INTO gate VALUES (3);
INSERT INTO counter (n) VALUES (4);
`,
  )

  // Holding `gate` makes the third statement wait: the process is then killed between statements 2 and 3.
  const holder = await mysql.createConnection({ host: '127.0.0.1', user: 'handover', password: dbPassword(), database: test.schema })
  t.teardown(() => holder.end())
  await holder.query('LOCK TABLES gate WRITE')
  const first = spawnApplyExpand(test, migrations)
  await waitUntil(() => first.output().includes('applied v2.sql #1'), 30_000, 'two statements applied')
  await waitUntil(async () => (await waitingOnGate(holder)) > 0, 10_000, 'the third statement waiting on the lock')
  first.child.kill('SIGKILL')
  await first.exited
  await holder.query('UNLOCK TABLES')

  const second = spawnApplyExpand(test, migrations)
  t.equal(await second.exited, 0, 'the second run succeeds', { output: second.output() })
  t.equal(second.output(), 'skipped v2.sql #0\nskipped v2.sql #1\napplied v2.sql #2\napplied v2.sql #3\n', 'it skips what ran and runs the rest')
  const [counter] = await test.db.query<RowDataPacket[]>(`SELECT n FROM \`${test.schema}\`.counter ORDER BY n`)
  t.same(counter.map((row) => row.n), [1, 4], 'each insert ran once')
  const [gate] = await test.db.query<RowDataPacket[]>(`SELECT n FROM \`${test.schema}\`.gate`)
  t.same(gate.map((row) => row.n), [3], 'the statement cut off ran once, on the second run')
  t.same(await columnsOf(test.db, test.schema, 'counter'), ['n', 'extra'], 'the ALTER ran once (a second ADD COLUMN would have failed)')
  const [history] = await test.db.query<RowDataPacket[]>(`SELECT statement_index AS i FROM \`${test.journalSchema}\`.handover_migrations WHERE service = 'fixture' ORDER BY i`)
  t.same(history.map((row) => row.i), [0, 1, 2, 3], 'every statement recorded once')
})

t.test('an applied script that was edited is refused with both checksums', async (t) => {
  const test = await createTestDatabase('resume_sum')
  t.teardown(test.cleanup)
  await test.db.query('CREATE TABLE counter (n INT NOT NULL)')
  const migrations = t.testdir({ 'v2.sql': '-- handover:expand\nINSERT INTO counter VALUES (1);\n' })
  t.equal(await spawnApplyExpand(test, migrations).exited, 0, 'first run applies')
  writeFileSync(join(migrations, 'v2.sql'), '-- handover:expand\nINSERT INTO counter VALUES (2);\n')
  const edited = spawnApplyExpand(test, migrations)
  t.equal(await edited.exited, 1, 'the edited script is refused')
  t.match(edited.output(), /SCRIPT_CHANGED|v2\.sql was already applied with checksum [0-9a-f]{64} but the file now has [0-9a-f]{64}/)
  const [counter] = await test.db.query<RowDataPacket[]>(`SELECT n FROM \`${test.schema}\`.counter`)
  t.same(counter.map((row) => row.n), [1], 'nothing from the edited file ran')
})

async function waitingOnGate(connection: mysql.Connection): Promise<number> {
  const [rows] = await connection.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.processlist WHERE info LIKE 'INSERT INTO gate%' AND state LIKE '%lock%'")
  return Number(rows[0]!.n)
}

t.test('the history says who ran each statement, when, how long, and its result, failures included', async (t) => {
  const test = await createTestDatabase('resume_hist')
  t.teardown(test.cleanup)
  await test.db.query('CREATE TABLE counter (n INT NOT NULL)')
  const migrations = t.testdir({ 'v2.sql': '-- handover:expand\nINSERT INTO counter VALUES (1);\nINSERT INTO missing_table VALUES (2);\n' })
  const failed = spawnApplyExpand(test, migrations)
  t.equal(await failed.exited, 1, 'the second statement fails')
  const history = async () =>
    (await test.db.query<RowDataPacket[]>(`SELECT statement_index AS i, result, error, applied_by AS who, duration_ms AS ms, applied_at AS at FROM \`${test.journalSchema}\`.handover_migrations ORDER BY i`))[0]
  const rows = await history()
  t.same(rows.map((row) => `${row.i} ${row.result}`), ['0 applied', '1 failed'])
  t.match(rows[1]!.error, /missing_table/, 'the failure says why')
  t.ok(rows.every((row) => /.+@.+/.test(String(row.who)) && row.at !== null && Number(row.ms) >= 0), 'who, when and how long are recorded')

  await test.db.query('CREATE TABLE missing_table (n INT NOT NULL)')
  const retried = spawnApplyExpand(test, migrations)
  t.equal(await retried.exited, 0, 'the retry succeeds')
  t.equal(retried.output(), 'skipped v2.sql #0\napplied v2.sql #1\n', 'only the failed statement runs again')
  t.same((await history()).map((row) => `${row.i} ${row.result}`), ['0 applied', '1 applied'])
})

t.test('a DDL that committed in a run cut off before its history row is recognised from the schema, not run twice', async (t) => {
  const test = await createTestDatabase('resume_ddl')
  t.teardown(test.cleanup)
  await test.db.query('CREATE TABLE counter (n INT NOT NULL)')
  const migrations = t.testdir({ 'v2.sql': 'ALTER TABLE counter ADD COLUMN extra INT NULL;\nCREATE INDEX by_extra ON counter (extra);\nCREATE TABLE notes (id INT PRIMARY KEY);\n' })
  // What the cut-off run did: its three statements committed, none was recorded.
  await test.db.query('ALTER TABLE counter ADD COLUMN extra INT NULL; CREATE INDEX by_extra ON counter (extra); CREATE TABLE notes (id INT PRIMARY KEY)')
  const run = spawnApplyExpand(test, migrations)
  t.equal(await run.exited, 0, 'the run succeeds', { output: run.output() })
  t.equal(run.output(), 'applied v2.sql #0\napplied v2.sql #1\napplied v2.sql #2\n', 'each statement counts as applied')
  const [history] = await test.db.query<RowDataPacket[]>(`SELECT statement_index AS i FROM \`${test.journalSchema}\`.handover_migrations WHERE service = 'fixture' AND result = 'applied' ORDER BY i`)
  t.same(history.map((row) => row.i), [0, 1, 2], 'and is recorded')

  // An ALTER whose other additions are missing did not run: it is not taken for applied.
  writeFileSync(join(migrations, 'v3.sql'), 'ALTER TABLE counter ADD COLUMN other INT NULL, ADD COLUMN extra INT NULL;\n')
  const clash = spawnApplyExpand(test, migrations)
  t.equal(await clash.exited, 1, 'an ALTER that would add other things too still fails')
  t.match(clash.output(), /Duplicate column name 'extra'/)
})

t.test('an undo reverses a DDL that committed in a run cut off before its history row', async (t) => {
  const test = await createTestDatabase('resume_undo')
  t.teardown(test.cleanup)
  await test.db.query('CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL)')
  const connection = await connect(test.config)
  t.teardown(() => connection.end())
  await ensureMigrationTables(connection, test.journalSchema)
  const script = parseScript('/m/v2.sql', 'v2.sql', '-- handover:expand\nALTER TABLE people ADD COLUMN first_name VARCHAR(50) NULL, ADD COLUMN last_name VARCHAR(50) NULL;\n-- handover:expand-undo\nALTER TABLE people DROP COLUMN IF EXISTS first_name, DROP COLUMN IF EXISTS last_name;\n')
  // The fault: the DDL commits, then the process is gone before the history row is written.
  const cutOff = new MigrationHistory(connection, test.journalSchema, 'fixture')
  cutOff.record = async () => {
    throw new Error('cut off')
  }
  const dying = new MigrationExecutor({ backfillProgress: new BackfillProgressTable(connection, test.journalSchema, 'fixture'), connection, schema: test.schema, runId: 'run-1', history: cutOff, softDrops: new SoftDropTable(connection, test.journalSchema, 'fixture') })
  await t.rejects(dying.applyPart([script], 'expand'), /cut off/)
  t.same(await columnsOf(test.db, test.schema, 'people'), ['id', 'name', 'first_name', 'last_name'], 'the DDL committed')

  await serviceExecutor(connection, test.config, 'fixture', 'run-1').undoPart([script], 'expand', 'expand-undo')
  t.same(await columnsOf(test.db, test.schema, 'people'), ['id', 'name'], 'the undo removed what the cut-off run added')
  const [history] = await test.db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${test.journalSchema}\`.handover_migrations WHERE service = 'fixture'`)
  t.equal(Number(history[0]!.n), 0, 'and the history is clean for the next run')
})
