/**
 * A contract that changes only definitions (keys, constraints, NOT NULL, narrowings,
 * renames) is undone by putting each table's definition from before the statement back,
 * on the real MariaDB with rows in the tables: the definition after the undo is the one
 * before, every value is the one before, and a statement that never ran is not "undone".
 */
import t, { type Test } from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { connect, type Connection } from '../../../src/db/connection.js'
import { loadSchemaModel } from '../../../src/db/ddl/schema-model.js'
import { MigrationHistory } from '../../../src/db/migrations/migration-history.js'
import { parseScript, type MigrationScript } from '../../../src/db/migrations/migration-script.js'
import { takeRestorePoint } from '../../../src/db/migrations/definition-undo.js'
import { ensureMigrationTables, serviceExecutor } from '../../../src/db/migrations/service-executor.js'
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js'

const TABLES = `
  CREATE TABLE teams (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(500) NOT NULL DEFAULT '', KEY by_name (name(20)));
  CREATE TABLE people (
    id INT NOT NULL AUTO_INCREMENT,
    team_id INT NULL,
    email VARCHAR(500) NULL COMMENT 'login',
    price DECIMAL(10,3) NOT NULL DEFAULT 0,
    code CHAR(6) NOT NULL,
    mentor_id INT NULL,
    PRIMARY KEY (id),
    KEY team (team_id),
    CONSTRAINT people_team FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE SET NULL
  );
  INSERT INTO teams (name) VALUES ('red'), ('blue');
  INSERT INTO people (team_id, email, price, code) VALUES (1, 'ada@example.org', 1.5, 'A1'), (2, 'grace@example.org', 2.25, 'G2'), (NULL, 'x@example.org', 0, 'X');
  UPDATE people SET email = 'none@example.org' WHERE id = 3;`

interface Setup {
  test: TestDatabase
  connection: Connection
  parse: (text: string) => Promise<MigrationScript>
}

async function setup(t: Test): Promise<Setup> {
  const test = await createTestDatabase('defundo')
  t.teardown(test.cleanup)
  await test.db.query(TABLES)
  const connection = await connect(test.config)
  t.teardown(() => connection.end())
  await ensureMigrationTables(connection, test.journalSchema)
  const parse = async (text: string): Promise<MigrationScript> => parseScript('/m/v2.sql', 'v2.sql', text, await loadSchemaModel(connection, test.schema))
  return { test, connection, parse }
}

async function snapshot(db: TestDatabase['db'], schema: string): Promise<{ definitions: string[]; rows: string }> {
  const definitions: string[] = []
  const [tables] = await db.query<RowDataPacket[]>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY 1", [schema])
  for (const table of tables.map((row) => String(row.t))) {
    const [created] = await db.query<RowDataPacket[]>(`SHOW CREATE TABLE \`${schema}\`.\`${table}\``)
    definitions.push(String(created[0]!['Create Table']).replace(/ AUTO_INCREMENT=\d+/, ''))
  }
  const rows: RowDataPacket[][] = []
  for (const table of tables.map((row) => String(row.t))) rows.push((await db.query<RowDataPacket[]>(`SELECT * FROM \`${schema}\`.\`${table}\` ORDER BY 1`))[0])
  return { definitions, rows: JSON.stringify(rows) }
}

const CONTRACTS: [string, string][] = [
  ['NOT NULL on a column', 'ALTER TABLE people MODIFY email VARCHAR(500) NOT NULL;'],
  ['a narrowing the server refuses rather than truncates', 'ALTER TABLE people MODIFY email VARCHAR(64) NULL;'],
  ['a unique key', 'ALTER TABLE people ADD UNIQUE KEY one_email (email);'],
  ['a unique key and a dropped index in one ALTER', 'ALTER TABLE teams DROP INDEX by_name, ADD UNIQUE INDEX by_name (name(30), id);'],
  ['a dropped foreign key and its index', 'ALTER TABLE people DROP FOREIGN KEY people_team;\nALTER TABLE people DROP INDEX team;'],
  ['a foreign key the server makes an index for', 'ALTER TABLE people ADD CONSTRAINT people_mentor FOREIGN KEY (mentor_id) REFERENCES people (id);'],
  ['a primary key dropped and made anew', 'ALTER TABLE people MODIFY id INT NOT NULL;\nALTER TABLE people DROP PRIMARY KEY;\nALTER TABLE people ADD PRIMARY KEY (id, code);'],
  ['a renamed column, widened', 'ALTER TABLE people CHANGE code person_code VARCHAR(12) NOT NULL;'],
  ['a renamed table', 'RENAME TABLE teams TO squads;'],
  ['a check constraint', "ALTER TABLE people ADD CONSTRAINT email_has_at CHECK (email LIKE '%@%');"],
  ['a NOT NULL column added in the contract', 'ALTER TABLE people ADD COLUMN role VARCHAR(10) NOT NULL AFTER team_id;'],
  ['the default of a NOT NULL column dropped', 'ALTER TABLE people MODIFY price DECIMAL(10,3) NOT NULL;'],
]

for (const [what, sql] of CONTRACTS) {
  t.test(`${what}: the contract runs, its undo puts back every definition and value`, async (t) => {
    const { test, connection, parse } = await setup(t)
    const script = await parse(sql + '\n')
    t.same(script.undoProblems, [], 'no undo problem: the definitions are put back')
    t.ok(script.parts.contract.length > 0, 'the statements are contract')
    const before = await snapshot(test.db, test.schema)
    const executor = serviceExecutor(connection, test.config, 'defundo', 'run-1')
    await executor.applyPart([script], 'contract')
    t.not((await snapshot(test.db, test.schema)).definitions.join('\n'), before.definitions.join('\n'), 'the contract changed a definition')
    await executor.undoPart([script], 'contract', 'contract-undo')
    const after = await snapshot(test.db, test.schema)
    t.same(after.definitions, before.definitions, 'every definition is the one before')
    t.equal(after.rows, before.rows, 'every value is the one before')
    await executor.undoPart([script], 'contract', 'contract-undo')
    t.same((await snapshot(test.db, test.schema)).definitions, before.definitions, 'an undo run again changes nothing')
  })
}

t.test('a narrowing that would truncate a value fails the contract in strict mode, whatever the session had, and changes nothing', async (t) => {
  const { test, connection, parse } = await setup(t)
  await connection.query("SET SESSION sql_mode = ''")
  const script = await parse('ALTER TABLE people MODIFY email VARCHAR(8) NULL;\n')
  const before = await snapshot(test.db, test.schema)
  const executor = serviceExecutor(connection, test.config, 'defundo', 'run-1')
  await t.rejects(executor.applyPart([script], 'contract'), { code: 'STATEMENT_FAILED', message: /Data truncated|too long/i })
  t.same(await snapshot(test.db, test.schema), before, 'no value was cut')
  const [mode] = await connection.query<RowDataPacket[]>('SELECT @@SESSION.sql_mode AS mode')
  t.equal(mode[0]!.mode, '', "the session's own sql_mode is back")
})

t.test('a narrowing that rounds values (fewer decimals) has no definition undo: the plan asks for a marked one', async (t) => {
  const { parse } = await setup(t)
  const script = await parse('ALTER TABLE people MODIFY price DECIMAL(10,2) NOT NULL DEFAULT 0;\n')
  t.match(script.undoProblems, [/v2\.sql:1 \(narrow-column\): this contract change has no undo handover can derive/])
})

t.test('soft drops and definition restores of one script are undone in reverse statement order, either way round', async (t) => {
  for (const sql of ['ALTER TABLE people MODIFY email VARCHAR(500) NOT NULL;\nALTER TABLE people DROP COLUMN code;\n', 'ALTER TABLE people DROP COLUMN code;\nALTER TABLE people MODIFY email VARCHAR(500) NOT NULL;\n']) {
    const { test, connection, parse } = await setup(t)
    const script = await parse(sql)
    const before = await snapshot(test.db, test.schema)
    const executor = serviceExecutor(connection, test.config, 'defundo', 'run-1')
    await executor.applyPart([script], 'contract')
    await executor.undoPart([script], 'contract', 'contract-undo')
    t.same(await snapshot(test.db, test.schema), before, sql.replace(/\n/g, ' '))
  }
})

t.test('a run cut off after the DDL committed and before its history row: the undo restores from the restore point of its start', async (t) => {
  const { test, connection, parse } = await setup(t)
  const script = await parse('ALTER TABLE people ADD UNIQUE KEY one_email (email);\nALTER TABLE people MODIFY email VARCHAR(500) NOT NULL;\n')
  const before = await snapshot(test.db, test.schema)
  const executor = serviceExecutor(connection, test.config, 'defundo', 'run-1')
  const history = new MigrationHistory(connection, test.journalSchema, 'defundo')
  // The first statement applied; the second begun, committed by the server, and never recorded.
  await executor.applyPart([{ ...script, parts: { ...script.parts, contract: script.parts.contract.slice(0, 1) } }], 'contract')
  await history.recordStart(script, 'contract', 1, 'run-1', JSON.stringify(await takeRestorePoint(connection, test.schema, script.parts.contract[1]!.classified!)))
  await connection.query(script.parts.contract[1]!.sql)
  // A resumed run that starts the statement again must keep the first restore point, not take the changed table for the old.
  await history.recordStart(script, 'contract', 1, 'run-2', JSON.stringify(await takeRestorePoint(connection, test.schema, script.parts.contract[1]!.classified!)))
  await executor.undoPart([script], 'contract', 'contract-undo')
  t.same(await snapshot(test.db, test.schema), before, 'both statements are undone')
})

t.test('a restore that cannot be exact is an error naming the table, never a silent difference', async (t) => {
  const { test, connection, parse } = await setup(t)
  const script = await parse('ALTER TABLE people MODIFY email VARCHAR(500) NOT NULL;\n')
  const executor = serviceExecutor(connection, test.config, 'defundo', 'run-1')
  await executor.applyPart([script], 'contract')
  // Somebody drops a column by hand in between: its values cannot come back from a definition.
  await test.db.query(`ALTER TABLE \`${test.schema}\`.people DROP COLUMN code`)
  await t.rejects(executor.undoPart([script], 'contract', 'contract-undo'), { code: 'STATEMENT_FAILED', message: /v2\.sql:1 \(contract-undo\) failed: cannot restore people .*column people\.code is gone/ })
})
