/**
 * An aborted statement stops on the server, not only in the client: the await ends once
 * the server has ended it, and the connection serves the next statement.
 */
import t from 'tap'
import mysql, { type RowDataPacket } from 'mysql2/promise'
import { cancellableQuery } from '../../../src/db/ddl/cancellable-query.js'
import { connect, type Connection } from '../../../src/db/connection.js'
import { parseScript } from '../../../src/db/migrations/scripts/migration-script.js'
import { ensureMigrationTables, serviceExecutor } from '../../../src/db/migrations/service-executor.js'
import { columnsOf, createTestDatabase, dbPassword } from '../../support/test-database.js'
import { waitUntil } from '../../../scripts/lib/wait-until.js'

/** What the server runs on `connection` now (its processlist row's INFO), from another connection. */
async function runningOn(observer: mysql.Connection, connection: Connection): Promise<string | null> {
  const [rows] = await observer.query<RowDataPacket[]>('SELECT info FROM information_schema.processlist WHERE id = ?', [connection.threadId])
  return (rows[0]?.info as string | null | undefined) ?? null
}

t.test('SELECT SLEEP(30) is killed on abort; the await ends when it has stopped, and the connection lives on', async (t) => {
  const test = await createTestDatabase('cancelq')
  t.teardown(test.cleanup)
  const db = await connect(test.config)
  const observer = await mysql.createConnection({ host: '127.0.0.1', user: 'handover', password: dbPassword() })
  t.teardown(() => Promise.all([db.end(), observer.end()]))
  const controller = new AbortController()
  const began = performance.now()
  const query = cancellableQuery(db, 'SELECT SLEEP(30)', controller.signal)
  setTimeout(() => controller.abort(new Error('phase timed out')), 300)
  const error = await query.catch((e: unknown) => e)
  const seconds = (performance.now() - began) / 1000
  t.match(error, { errno: 1317 }, 'the server interrupted the statement (ER_QUERY_INTERRUPTED)')
  t.ok(seconds < 3, `stopped ${seconds.toFixed(2)}s after it began, not 30`)
  t.equal(await runningOn(observer, db), null, 'nothing runs on that connection any more')
  const [rows] = await db.query<RowDataPacket[]>('SELECT 1 AS one')
  t.equal(Number(rows[0]!.one), 1, 'the connection serves the next statement')
  await t.rejects(cancellableQuery(db, 'SELECT 2', controller.signal), /phase timed out/, 'an aborted signal starts no statement')
})

t.test('the migration executor kills its running DDL on abort and records nothing as applied', async (t) => {
  const test = await createTestDatabase('cancelq')
  t.teardown(test.cleanup)
  await test.db.query('CREATE TABLE people (id INT PRIMARY KEY)')
  const db = await connect(test.config)
  const observer = await mysql.createConnection({ host: '127.0.0.1', user: 'handover', password: dbPassword() })
  t.teardown(() => Promise.all([db.end(), observer.end()]))
  await ensureMigrationTables(db, test.journalSchema)
  // A DDL that takes 30 s: the server fills the new table from a slow SELECT.
  const script = parseScript('/m/v2.sql', 'v2.sql', '-- handover:expand\nCREATE TABLE slow_copy AS SELECT SLEEP(30) AS x;\nALTER TABLE people ADD COLUMN later INT NULL;\n')
  const executor = serviceExecutor(db, test.config, 'cancelq', 'run-1')
  const controller = new AbortController()
  const began = performance.now()
  const applying = executor.applyPart([script], 'expand', undefined, controller.signal)
  await waitUntil(async () => (await runningOn(observer, db))?.includes('SLEEP') ?? false, 10_000, 'the DDL to run on the server')
  controller.abort(new Error('expand timed out'))
  await t.rejects(applying, { code: 'STATEMENT_FAILED', message: /v2\.sql:2 \(expand\) failed: Query execution was interrupted/ })
  t.ok((performance.now() - began) / 1000 < 10, 'the part ended long before the statement would have')
  t.equal(await runningOn(observer, db), null, 'and the statement with it')
  const [tables] = await test.db.query<RowDataPacket[]>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ?', [test.schema])
  t.same(tables.map((row) => row.t), ['people'], 'the killed CREATE ... SELECT left no table')
  t.same(await columnsOf(test.db, test.schema, 'people'), ['id'], 'and the next statement never started')
  const [applied] = await test.db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${test.journalSchema}\`.handover_migrations WHERE service = 'cancelq' AND result = 'applied'`)
  t.equal(Number(applied[0]!.n), 0, 'nothing is recorded as applied')
})
