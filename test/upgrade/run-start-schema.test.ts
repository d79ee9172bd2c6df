/**
 * A resumed run classifies its scripts against the schema it started from, read from its
 * pre-upgrade dump, not against the live schema its expand has already changed: on a real
 * MariaDB, a script whose `DROP TABLE IF EXISTS` is a no-op at the start (the table does not
 * exist) but a real drop once the expand has created the table keeps the parts it had.
 */
import t, { type Test } from 'tap'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { HandoverConfig } from '../../src/config/config.js'
import { dumpSchema } from '../../src/db/backup.js'
import { schemaFromDump } from '../../src/db/classifier/schema-dump.js'
import { SchemaState } from '../../src/db/classifier/schema-state.js'
import { loadSchemaModel } from '../../src/db/ddl/schema-model.js'
import { readDumpTables } from '../../src/db/dump-tables.js'
import { parseScript } from '../../src/db/migrations/scripts/migration-script.js'
import { connect } from '../../src/db/connection.js'
import { Journal } from '../../src/db/journal/journal.js'
import type { MigrationScript } from '../../src/db/migrations/scripts/migration-script.js'
import { planScripts } from '../../src/upgrade/planning/plan-upgrade.js'
import { runFacts } from '../../src/upgrade/steering/resume-run.js'
import { RunStartSchemaUnreadableError } from '../../src/upgrade/steering/run-start-schema.js'
import type { RowDataPacket } from 'mysql2/promise'
import { ensureMigrationTables, serviceExecutor } from '../../src/db/migrations/service-executor.js'
import { columnsOf, createTestDatabase } from '../support/test-database.js'

// The vendor pattern: drop the table if a failed earlier attempt left it, then create it.
const SCRIPT = `DROP TABLE IF EXISTS tags;
CREATE TABLE tags (id INT AUTO_INCREMENT PRIMARY KEY, person_id INT NOT NULL, tag VARCHAR(40) NOT NULL);
ALTER TABLE people DROP COLUMN name;
`

function parts(script: MigrationScript | undefined): { expand: string[]; contract: string[] } {
  const sql = (part: 'expand' | 'contract') => (script?.parts[part] ?? []).map((statement) => `${statement.sql.split(' (')[0]} [${statement.classified?.kind}]`)
  return { expand: sql('expand'), contract: sql('contract') }
}

async function setUp(t: Test, withBackup: boolean) {
  const test = await createTestDatabase('startschema')
  t.teardown(test.cleanup)
  await test.db.query('CREATE TABLE people (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NULL); INSERT INTO people (name) VALUES (\'ada\')')
  const dir = t.testdir({ migrations: { 'v2.sql': SCRIPT }, backups: {} })
  const service = `start-${Math.random().toString(36).slice(2, 8)}`
  // Only what planning and the journal read.
  const config = { service: { name: service }, database: test.config, migrations: { dir: join(dir, 'migrations') } } as unknown as HandoverConfig
  const db = await connect(test.config)
  t.teardown(() => db.end())
  await Journal.ensureTables(db, test.journalSchema)
  const journal = new Journal(db, test.journalSchema)
  const original = (await planScripts(db, config, [1], [2]))[0]?.script
  const runId = crypto.randomUUID()
  await journal.startRun({ id: runId, service, fromVersion: '1', toVersion: '2', fromImage: 'demo:1', toImage: 'demo:2', standbySlot: 'green' }, 'tester', 'host')
  if (withBackup) {
    const dump = await dumpSchema(db, test.config, join(dir, 'backups'), `1-${runId}`)
    await journal.facts.record({ type: 'backup-written', service, runId, file: dump.file, bytes: dump.bytes }, 'backup')
  }
  // The dead run's expand, with its history rows: what it changed stays in the live schema.
  await ensureMigrationTables(db, test.journalSchema)
  await serviceExecutor(db, test.config, service, runId).applyPart(original ? [original] : [], 'expand')
  const run = await journal.unfinishedRun(service)
  if (!run) throw new Error('the run just started is not unfinished')
  return { test, db, config, journal, run, original }
}

t.test('a run cut off after its expand is planned again as it was first planned', async (t) => {
  const { test, db, config, journal, run, original } = await setUp(t, true)
  t.same(parts(original), {
    expand: ['DROP TABLE IF EXISTS tags [no-op]', 'CREATE TABLE tags [create-table]'],
    contract: ['ALTER TABLE people DROP COLUMN name [drop-column]'],
  }, 'the original run: the drop is a no-op and the create is expand')
  const live = (await planScripts(db, config, [1], [2]))[0]?.script
  t.same(parts(live).contract[0], 'DROP TABLE IF EXISTS tags [drop-table]', 'against the live schema the drop would destroy the table the expand made, in the contract')
  const resumed = (await runFacts(db, config, journal, run)).scripts[0]
  t.same(parts(resumed), parts(original), 'resumed: every statement in the part and class it had')
  t.equal(resumed?.checksum, original?.checksum)
  // v2 wrote into the table its expand made; the resumed contract keeps it.
  await test.db.query("INSERT INTO tags (person_id, tag) VALUES (1, 'kept')")
  await serviceExecutor(db, test.config, config.service.name, run.id).applyPart(resumed ? [resumed] : [], 'contract')
  const [tags] = await test.db.query<RowDataPacket[]>('SELECT tag FROM tags')
  t.same(tags.map((row) => row.tag), ['kept'], 'the rows v2 wrote are still in tags')
  t.same(await columnsOf(test.db, test.schema, 'people'), ['id', '_handover_name'], 'the contract ran: name is soft-dropped')
})

t.test('a run stopped before its backup changed nothing: the live schema is its start', async (t) => {
  const { db, config, journal, run } = await setUp(t, false)
  // The expand ran here only to tell the two schemas apart: with no backup fact the live one is read.
  const resumed = (await runFacts(db, config, journal, run)).scripts[0]
  t.same(parts(resumed).contract[0], 'DROP TABLE IF EXISTS tags [drop-table]')
})

t.test('a run whose dump is gone is refused, naming the file', async (t) => {
  const { db, config, journal, run } = await setUp(t, true)
  const [fact] = (await journal.facts.ofRun(run.id, config.service.name)).filter((row) => row.fact.type === 'backup-written')
  const file = fact?.fact.type === 'backup-written' ? fact.fact.file : ''
  await rm(file)
  await t.rejects(runFacts(db, config, journal, run), { constructor: RunStartSchemaUnreadableError, code: 'RUN_START_SCHEMA_UNREADABLE', file })
})

// Statements whose class hangs on what the dump says: table-level primary keys, inherited character sets, AUTO_INCREMENT.
const PROBES = [
  'ALTER TABLE a MODIFY name VARCHAR(80) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL',
  'ALTER TABLE a MODIFY name VARCHAR(80) NULL',
  'ALTER TABLE a MODIFY code VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_swedish_ci NOT NULL',
  "ALTER TABLE a MODIFY e ENUM('x','y','z') CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL DEFAULT 'x'",
  'ALTER TABLE a MODIFY id INT NOT NULL',
  'ALTER TABLE l MODIFY id BIGINT',
  'ALTER TABLE l MODIFY s VARCHAR(9) CHARACTER SET latin1 COLLATE latin1_general_ci',
  'ALTER TABLE l ADD UNIQUE KEY (s)',
  'DROP TABLE IF EXISTS l',
]

t.test("a dump's tables classify every probe as the live schema does", async (t) => {
  const test = await createTestDatabase('startschema')
  t.teardown(test.cleanup)
  await test.db.query(`CREATE TABLE a (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NULL, code VARCHAR(10) CHARACTER SET latin1 NOT NULL, e ENUM('x','y') NOT NULL DEFAULT 'x', KEY (name)) DEFAULT CHARSET=utf8mb4;
    CREATE TABLE l (id INT, s VARCHAR(5), PRIMARY KEY (id)) DEFAULT CHARSET=latin1 COLLATE latin1_general_ci`)
  const db = await connect(test.config)
  t.teardown(() => db.end())
  const dump = await dumpSchema(db, test.config, t.testdir(), 'probe')
  const tables = await readDumpTables(dump.file)
  const model = await loadSchemaModel(db, test.schema)
  const classes = (state: () => SchemaState) =>
    PROBES.map((sql) => {
      const script = parseScript('/m/v2.sql', 'v2.sql', `${sql};\n`, { state: state() })
      return `${sql} -> ${[...script.parts.expand.map((s) => `expand ${s.classified?.kind}`), ...script.parts.contract.map((s) => `contract ${s.classified?.kind}`)].join(', ')}`
    })
  const live = classes(() => new SchemaState(model))
  t.same(classes(() => schemaFromDump(tables)), live)
  t.match(live[0], /expand widen-column/, 'the probe that names the inherited character set is a widening')
})
