import t, { type Test } from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { connect } from '../../../src/db/connection.js'
import { parseScript } from '../../../src/db/migrations/scripts/migration-script.js'
import { rehearse, RehearsalFailedError } from '../../../src/db/rehearsal/rehearsal.js'
import { columnsOf, createTestDatabase } from '../../support/test-database.js'

const script = (name: string, text: string) => parseScript(`/m/${name}`, name, text)

async function setup(t: Test) {
  const test = await createTestDatabase('rehearsal')
  t.teardown(test.cleanup)
  await test.db.query(`CREATE TABLE orders (id INT PRIMARY KEY, status ENUM('new','paid'), note VARCHAR(50) NOT NULL);
    CREATE TABLE order_lines (id INT PRIMARY KEY, order_id INT, FOREIGN KEY (order_id) REFERENCES orders (id));
    INSERT INTO orders VALUES (1, 'new', 'first')`)
  // A table only this test's schema has: a copy of it is recognised among other tests' rehearsals.
  const marker = `marker_${Math.random().toString(36).slice(2, 10)}`
  await test.db.query(`CREATE TABLE ${marker} (id INT PRIMARY KEY)`)
  const connection = await connect(test.config)
  t.teardown(() => connection.end())
  return { test, connection, marker }
}


/** Rehearsal copies of this test's schema still there (found by the marker table only it has). */
async function leftoverCopies(connection: Awaited<ReturnType<typeof connect>>, marker: string): Promise<number> {
  const [rows] = await connection.query<RowDataPacket[]>(
    "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema LIKE '\\_handover\\_rehearsal\\_%' AND table_name = ?",
    [marker],
  )
  return Number(rows[0]!.n)
}

t.test('the server says which algorithm each ALTER gets, on a copy', async (t) => {
  const { test, connection, marker } = await setup(t)
  const rehearsed = await rehearse(connection, test.schema, [
    script('v2.sql', `-- handover:expand
ALTER TABLE orders ADD COLUMN total INT NULL;
ALTER TABLE orders ADD INDEX by_status (status);
ALTER TABLE orders MODIFY status ENUM('new','shipped','paid');
-- handover:expand-undo
ALTER TABLE orders DROP COLUMN IF EXISTS total, DROP INDEX IF EXISTS by_status;
ALTER TABLE orders MODIFY status ENUM('new','paid');
`),
  ])
  t.same(
    rehearsed.map((s) => `${s.part} ${s.line} ${s.algorithm}`),
    ['expand 2 INSTANT', 'expand 3 NOCOPY', 'expand 4 COPY', 'expand-undo 6 NOCOPY', 'expand-undo 7 COPY'],
    'ADD COLUMN is instant, ADD INDEX needs no copy, an ENUM value inserted mid-list copies',
  )
  t.same(await columnsOf(test.db, test.schema, 'orders'), ['id', 'status', 'note'], 'the real table is untouched')
  t.equal(await leftoverCopies(connection, marker), 0, 'the copy is removed')
})

t.test('CREATE INDEX and DROP INDEX get an algorithm as the ALTER TABLE they stand for', async (t) => {
  const { test, connection } = await setup(t)
  const rehearsed = await rehearse(connection, test.schema, [
    script('v2.sql', `-- handover:expand
CREATE INDEX by_note ON orders (note);
CREATE UNIQUE INDEX by_note_status ON orders (note, status);
-- handover:contract
DROP INDEX by_note ON orders;
-- handover:expand-undo
DROP INDEX IF EXISTS by_note ON orders;
DROP INDEX IF EXISTS by_note_status ON orders;
-- handover:contract-undo
CREATE INDEX by_note ON orders (note);
`),
  ])
  t.same(
    rehearsed.map((s) => `${s.part} ${s.line} ${s.algorithm}`),
    ['expand 2 NOCOPY', 'expand 3 NOCOPY', 'contract 5 NOCOPY', 'contract-undo 10 NOCOPY', 'expand-undo 7 NOCOPY', 'expand-undo 8 NOCOPY'],
    'adding or dropping a secondary index needs no copy of the table on MariaDB 10.11',
  )
})

t.test('a failing statement is caught with its script, line and part before anything real changes', async (t) => {
  const { test, connection, marker } = await setup(t)
  const error = await rehearse(connection, test.schema, [
    script('v2.sql', '-- handover:expand\nALTER TABLE orders ADD COLUMN total INT NULL;\n-- handover:contract\nALTER TABLE orders DROP COLUMN notes;\n'),
  ]).catch((e: unknown) => e)
  t.type(error, RehearsalFailedError)
  t.match((error as Error).message, /v2\.sql:4 \(contract\) fails: .*notes/)
  t.same(await columnsOf(test.db, test.schema, 'orders'), ['id', 'status', 'note'], 'the real table is untouched')
  t.equal(await leftoverCopies(connection, marker), 0, 'the copy is removed after a failure too')
})

t.test('a rollback that would fail is caught too', async (t) => {
  const { test, connection } = await setup(t)
  const error = await rehearse(connection, test.schema, [
    script('v2.sql', '-- handover:expand\nALTER TABLE orders ADD COLUMN total INT NULL;\n-- handover:expand-undo\nALTER TABLE orders DROP COLUMN totl;\n'),
  ]).catch((e: unknown) => e)
  t.match((error as Error).message, /v2\.sql:4 \(expand-undo\) fails/)
})

t.test('foreign keys are copied whatever the table order', async (t) => {
  const { test, connection } = await setup(t)
  const rehearsed = await rehearse(connection, test.schema, [
    script('v2.sql', '-- handover:expand\nINSERT INTO order_lines VALUES (1, 999);\n'),
  ]).catch((e: unknown) => e)
  t.type(rehearsed, RehearsalFailedError, 'the copy enforces the foreign key: a row pointing nowhere fails')
})

async function rehearsalUsers(connection: Awaited<ReturnType<typeof connect>>): Promise<number> {
  const [rows] = await connection.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM mysql.user WHERE User LIKE '\\_handover\\_rehearsal\\_%'")
  return Number(rows[0]!.n)
}

t.test('the rehearsal runs as a user granted only its copy: a statement naming the live schema is refused by the server, and the live schema is untouched', async (t) => {
  const { test, connection } = await setup(t)
  const usersBefore = await rehearsalUsers(connection)
  const planned = script('v2.sql', '-- handover:expand\nCREATE TABLE placeholder (id INT PRIMARY KEY);\n-- handover:expand-undo\nDROP TABLE IF EXISTS placeholder;\n')
  // As if a name had slipped past the script's checks: the grant is what stops it.
  planned.parts.expand[0] = { ...planned.parts.expand[0]!, sql: `CREATE TABLE \`${test.schema}\`.sneaky (id INT PRIMARY KEY)` }
  const error = await rehearse(connection, test.schema, [planned]).catch((e: unknown) => e)
  t.type(error, RehearsalFailedError)
  t.match((error as Error).message, /v2\.sql:2 \(expand\) fails: .*denied/i)
  const [tables] = await test.db.query<RowDataPacket[]>('SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_name = ?', [test.schema, 'sneaky'])
  t.equal(tables.length, 0, 'no table was created in the live schema')
  t.equal(await rehearsalUsers(connection), usersBefore, 'the rehearsal user is dropped')
})

t.test('the version write runs as the copy user too', async (t) => {
  const { test, connection } = await setup(t)
  let seen = ''
  await rehearse(connection, test.schema, [script('v2.sql', '-- handover:expand\nALTER TABLE orders ADD COLUMN total INT NULL;\n-- handover:expand-undo\nALTER TABLE orders DROP COLUMN IF EXISTS total;\n')], undefined, async (copy, asCopyUser) => {
    const [[row]] = await asCopyUser.query<RowDataPacket[]>('SELECT CURRENT_USER() AS user')
    seen = String(row!.user)
    const error = await asCopyUser.query(`SELECT * FROM \`${test.schema}\`.orders`).catch((e: unknown) => e)
    t.match((error as Error).message, /denied/i, 'the live schema is out of its reach')
    t.ok(copy.startsWith('_handover_rehearsal_'))
  })
  t.match(seen, /^_handover_rehearsal_[0-9a-f]{8}@/)
})
