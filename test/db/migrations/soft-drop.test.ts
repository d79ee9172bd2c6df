import t, { type Test } from 'tap'
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import { connect } from '../../../src/db/connection.js'
import { parseScript } from '../../../src/db/migrations/scripts/migration-script.js'
import { ensureMigrationTables, serviceExecutor } from '../../../src/db/migrations/service-executor.js'
import { columnsOf, createTestDatabase } from '../../support/test-database.js'

const CONTRACT = parseScript('/m/v2.sql', 'v2.sql', 'ALTER TABLE people DROP COLUMN name;\nDROP TABLE notes;\n')

async function setup(t: Test) {
  const test = await createTestDatabase('softdrop')
  t.teardown(test.cleanup)
  await test.db.query(`CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, age INT NOT NULL);
    INSERT INTO people VALUES (1, 'Ada', 36), (2, 'Grace', 85);
    CREATE TABLE notes (id INT PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'keep me')`)
  const connection = await connect(test.config)
  t.teardown(() => connection.end())
  await ensureMigrationTables(connection, test.journalSchema)
  return { test, executor: serviceExecutor(connection, test.config, 'soft', 'run-1') }
}

t.test('a contract drop renames; the new version can insert; undo restores every value exactly', async (t) => {
  const { test, executor } = await setup(t)
  await executor.applyPart([CONTRACT], 'contract')
  t.same(await columnsOf(test.db, test.schema, 'people'), ['id', '_handover_name', 'age'], 'the column is renamed, not dropped')
  const [tables] = await test.db.query<RowDataPacket[]>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY 1', [test.schema])
  t.same(tables.map((row) => String(row.t)).sort(), ['_handover_notes', 'people'], 'the table is renamed, not dropped')
  const [inserted] = await test.db.query<ResultSetHeader>(`INSERT INTO \`${test.schema}\`.people (id, age) VALUES (3, 1)`)
  t.equal(inserted.affectedRows, 1, 'an insert that leaves the old column out succeeds (it got a default)')
  await test.db.query(`DELETE FROM \`${test.schema}\`.people WHERE id = 3`)

  await executor.undoPart([CONTRACT], 'contract', 'contract-undo')
  t.same(await columnsOf(test.db, test.schema, 'people'), ['id', 'name', 'age'])
  const [rows] = await test.db.query<RowDataPacket[]>(`SELECT id, name FROM \`${test.schema}\`.people ORDER BY id`)
  t.same(rows.map((row) => `${row.id} ${row.name}`), ['1 Ada', '2 Grace'], 'every value is intact')
  const [create] = await test.db.query<RowDataPacket[]>(`SHOW CREATE TABLE \`${test.schema}\`.people`)
  t.match(String(create[0]!['Create Table']), /`name` varchar\(50\) NOT NULL,/, 'NOT NULL without default, as before')
  const [notes] = await test.db.query<RowDataPacket[]>(`SELECT body FROM \`${test.schema}\`.notes`)
  t.same(notes.map((row) => row.body), ['keep me'], 'the table is back with its rows')
})

t.test('purge drops for real what a contract renamed', async (t) => {
  const { test, executor } = await setup(t)
  await executor.applyPart([CONTRACT], 'contract')
  const purged = await executor.purgeSoftDrops(0)
  t.same(purged.map((drop) => drop.softName).sort(), ['_handover_name', '_handover_notes'])
  t.same(await columnsOf(test.db, test.schema, 'people'), ['id', 'age'])
  const [tables] = await test.db.query<RowDataPacket[]>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ?', [test.schema])
  t.same(tables.map((row) => row.t), ['people'])
  t.same(await executor.purgeSoftDrops(0), [], 'nothing twice')
})

t.test('a retention keeps them', async (t) => {
  const { executor } = await setup(t)
  await executor.applyPart([CONTRACT], 'contract')
  t.same(await executor.purgeSoftDrops(24), [], 'younger than 24 hours: kept')
})
