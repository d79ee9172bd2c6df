/**
 * A contract that changes only definitions (keys, constraints, NOT NULL, narrowings,
 * renames) is undone by putting each table's definition from before the statement back;
 * one that changes rows, by bringing the rows back to a copy taken before it. On the real
 * MariaDB with rows in the tables: the definitions and every value after the undo are the
 * ones before, and a statement that never ran is not "undone".
 */
import t, { type Test } from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { connect, type Connection } from '../../../src/db/connection.js'
import { loadSchemaModel } from '../../../src/db/ddl/schema-model.js'
import { MigrationHistory } from '../../../src/db/migrations/migration-history.js'
import { parseScript, type MigrationScript } from '../../../src/db/migrations/scripts/migration-script.js'
import { takeRestorePoint } from '../../../src/db/migrations/undo/restore-point.js'
import { ensureMigrationTables, serviceExecutor } from '../../../src/db/migrations/service-executor.js'
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js'

const TABLES = `
  CREATE TABLE tags (id INT NOT NULL, label VARCHAR(20) NOT NULL, PRIMARY KEY (id));
  INSERT INTO tags VALUES (1, 'one'), (2, 'two');
  CREATE TABLE teams (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(500) NOT NULL DEFAULT '', KEY by_name (name(20)));
  CREATE TABLE people (
    id INT NOT NULL AUTO_INCREMENT,
    team_id INT NULL,
    email VARCHAR(500) NULL COMMENT 'login',
    price DECIMAL(10,3) NOT NULL DEFAULT 0,
    code CHAR(6) NOT NULL,
    mentor_id INT NULL,
    code_lower CHAR(6) AS (LOWER(code)) VIRTUAL,
    PRIMARY KEY (id),
    KEY team (team_id),
    CONSTRAINT people_team FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE SET NULL
  );
  CREATE TABLE badges (person_id INT NOT NULL, badge VARCHAR(20) NOT NULL, PRIMARY KEY (person_id, badge),
    CONSTRAINT badge_person FOREIGN KEY (person_id) REFERENCES people (id) ON DELETE CASCADE ON UPDATE CASCADE);
  INSERT INTO teams (name) VALUES ('red'), ('blue');
  INSERT INTO people (team_id, email, price, code) VALUES (1, 'ada@example.org', 1.5, 'A1'), (2, 'grace@example.org', 2.25, 'G2'), (NULL, 'x@example.org', 0, 'X');
  UPDATE people SET email = 'none@example.org' WHERE id = 3;
  INSERT INTO badges VALUES (1, 'gold'), (1, 'silver'), (2, 'gold');`

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
  ['a primary key dropped and made anew', 'ALTER TABLE tags DROP PRIMARY KEY;\nALTER TABLE tags ADD PRIMARY KEY (id, label);'],
  ['a renamed column, widened', 'ALTER TABLE people CHANGE code person_code VARCHAR(12) NOT NULL;'],
  ['a renamed table', 'RENAME TABLE teams TO squads;'],
  ['a check constraint', "ALTER TABLE people ADD CONSTRAINT email_has_at CHECK (email LIKE '%@%');"],
  ['a NOT NULL column added in the contract', 'ALTER TABLE people ADD COLUMN role VARCHAR(10) NOT NULL AFTER team_id;'],
  ['the default of a NOT NULL column dropped', 'ALTER TABLE people MODIFY price DECIMAL(10,3) NOT NULL;'],
  ['an UPDATE of existing rows', "UPDATE people SET email = REPLACE(email, '@example.org', '@example.com') WHERE email LIKE '%@example.org';"],
  ['a DELETE whose foreign key cascades into another table', 'DELETE FROM people WHERE id = 1;'],
  ['an UPDATE of a primary key that cascades', 'UPDATE people SET id = id + 100 WHERE id = 2;'],
  ['an INSERT … SELECT and an upsert', "INSERT INTO teams (name) SELECT CONCAT(name, '-2') FROM teams;\nINSERT INTO teams (id, name) VALUES (1, 'reds') ON DUPLICATE KEY UPDATE name = VALUES(name);"],
  ['a definition change and a data change of one table, in turn', "ALTER TABLE people MODIFY email VARCHAR(500) NOT NULL;\nUPDATE people SET email = UPPER(email);\nALTER TABLE people ADD UNIQUE KEY one_email (email);"],
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
    const changed = await snapshot(test.db, test.schema)
    t.ok(changed.definitions.join('\n') !== before.definitions.join('\n') || changed.rows !== before.rows, 'the contract changed a definition or rows')
    await executor.undoPart([script], 'contract', 'contract-undo')
    const after = await snapshot(test.db, test.schema)
    t.same(after.definitions, before.definitions, 'every definition is the one before, and no copy of rows is left')
    t.equal(after.rows, before.rows, 'every value is the one before')
    await executor.undoPart([script], 'contract', 'contract-undo')
    t.same((await snapshot(test.db, test.schema)).definitions, before.definitions, 'an undo run again changes nothing')
  })
}

t.test('a data change of a table with triggers is refused before it runs, naming the trigger', async (t) => {
  const { test, connection, parse } = await setup(t)
  await test.db.query(`CREATE TRIGGER \`${test.schema}\`.audit AFTER UPDATE ON \`${test.schema}\`.teams FOR EACH ROW SET @seen = 1`)
  const script = await parse("UPDATE teams SET name = UPPER(name);\n")
  const before = await snapshot(test.db, test.schema)
  await t.rejects(serviceExecutor(connection, test.config, 'defundo', 'run-1').applyPart([script], 'contract'), { code: 'ROWS_NOT_RESTORABLE', message: /teams has trigger audit/ })
  t.equal((await snapshot(test.db, test.schema)).rows, before.rows, 'nothing changed')
})

t.test('a finished run drops every copy of rows: they hold the service data, and live in the journal schema, not the service one', async (t) => {
  const { test, connection, parse } = await setup(t)
  const script = await parse('DELETE FROM people WHERE id = 1;\n')
  const executor = serviceExecutor(connection, test.config, 'defundo', 'run-1')
  await executor.applyPart([script], 'contract')
  const copies = async (schema: string): Promise<number> =>
    Number((await test.db.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'handover\\_rows\\_%'", [schema]))[0][0]!.n)
  t.equal(await copies(test.journalSchema), 2, 'people and badges, which its foreign key cascades into, have a copy in the journal schema')
  t.equal(await copies(test.schema), 0, 'none in the service schema')
  t.equal((await executor.dropRowSnapshots()).length, 2)
  t.equal(await copies(test.journalSchema), 0)
})

t.test('a DDL a killed run had committed, run again by the resumed run and failed there, is still undone', async (t) => {
  const { test, connection, parse } = await setup(t)
  const script = await parse('ALTER TABLE people DROP FOREIGN KEY people_team;\n')
  const before = await snapshot(test.db, test.schema)
  const history = new MigrationHistory(connection, test.journalSchema, 'defundo')
  await history.recordStart(script, 'contract', 0, 'run-1', JSON.stringify(await takeRestorePoint(connection, test.schema, script.parts.contract[0]!.classified!)))
  await connection.query(`USE \`${test.schema}\``)
  await connection.query(script.parts.contract[0]!.sql)
  const executor = serviceExecutor(connection, test.config, 'defundo', 'run-2')
  await t.rejects(executor.applyPart([script], 'contract'), { code: 'STATEMENT_FAILED' }, 'the resumed run fails on the key that is gone')
  await executor.undoPart([script], 'contract', 'contract-undo')
  t.same(await snapshot(test.db, test.schema), before, 'the foreign key is back')
})

t.test('an undo cut off halfway and run again goes on from where it stopped', async (t) => {
  const { test, connection, parse } = await setup(t)
  const script = await parse('ALTER TABLE people CHANGE email mail VARCHAR(500) NULL;\nALTER TABLE people MODIFY mail VARCHAR(500) NOT NULL;\nUPDATE people SET mail = UPPER(mail);\n')
  const before = await snapshot(test.db, test.schema)
  const executor = serviceExecutor(connection, test.config, 'defundo', 'run-1')
  await executor.applyPart([script], 'contract')
  // The undo is cut off after it undid the last two statements: the first one's row is still there.
  const history = new MigrationHistory(connection, test.journalSchema, 'defundo')
  const partial = { ...script, parts: { ...script.parts, contract: script.parts.contract } }
  const points = await history.restorePoints(partial, 'contract')
  t.equal(points.size, 3)
  let undone = 0
  await executor.undoPart([script], 'contract', 'contract-undo', () => {
    if (++undone === 2) throw new Error('cut off')
  }).catch(() => undefined)
  t.equal((await history.restorePoints(script, 'contract')).size, 1, 'two statements are undone and forgotten')
  await executor.undoPart([script], 'contract', 'contract-undo')
  t.same(await snapshot(test.db, test.schema), before, 'the undo run again finishes it exactly')
})

t.test('copies of rows keep what the server would renumber or collide on: a 0 id, values shifted between rows', async (t) => {
  const { test, connection, parse } = await setup(t)
  await test.db.query(`SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO'); INSERT INTO \`${test.schema}\`.teams (id, name) VALUES (0, 'zero');
    CREATE TABLE \`${test.schema}\`.ranks (id INT PRIMARY KEY, pos INT NOT NULL, UNIQUE KEY pos (pos)); INSERT INTO \`${test.schema}\`.ranks VALUES (1, 1), (2, 2), (3, 3)`)
  const script = await parse("UPDATE teams SET name = UPPER(name);\nUPDATE ranks SET pos = pos + 1 ORDER BY pos DESC;\n")
  const before = await snapshot(test.db, test.schema)
  const executor = serviceExecutor(connection, test.config, 'defundo', 'run-1')
  await executor.applyPart([script], 'contract')
  await executor.undoPart([script], 'contract', 'contract-undo')
  t.same(await snapshot(test.db, test.schema), before, 'team 0 is still 0, and every rank is back in its place')
})

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
  await test.db.query(`ALTER TABLE \`${test.schema}\`.people DROP COLUMN mentor_id`)
  await t.rejects(executor.undoPart([script], 'contract', 'contract-undo'), { code: 'STATEMENT_FAILED', message: /v2\.sql:1 \(contract-undo\) failed: cannot restore people .*column people\.mentor_id is gone/ })
})
