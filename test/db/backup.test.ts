import t from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { BackupFailedError, dumpSchema, listBackups, restoreBackup } from '../../src/db/backup.js'
import { connect } from '../../src/db/connection.js'
import { createTestDatabase } from '../support/test-database.js'

t.test('dump, list, and restore put the schema back exactly as dumped', async (t) => {
  const test = await createTestDatabase('backup')
  t.teardown(test.cleanup)
  await test.db.query("CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(50)); INSERT INTO people VALUES (1, 'Ada'), (2, 'Grace')")
  const connection = await connect(test.config)
  t.teardown(() => connection.end())
  const dir = t.testdir({})

  const backup = await dumpSchema(connection, test.config, dir, 'before')
  t.ok(backup.bytes > 0, 'the dump has content')
  t.same((await listBackups(dir, test.schema)).map((b) => b.file), [backup.file], 'list finds it')
  t.same(await listBackups(dir, 'other_schema'), [], 'and only for its schema')

  await test.db.query("DELETE FROM people WHERE id = 1; UPDATE people SET name = 'changed'; CREATE TABLE extra (x INT)")
  await restoreBackup(test.config, backup.file)
  const [rows] = await test.db.query<RowDataPacket[]>(`SELECT id, name FROM \`${test.schema}\`.people ORDER BY id`)
  t.same(rows.map((r) => `${r.id} ${r.name}`), ['1 Ada', '2 Grace'], 'the rows are back')
  const [extra] = await test.db.query<RowDataPacket[]>('SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_name = ?', [test.schema, 'extra'])
  t.equal(extra.length, 0, 'a table created after the dump is gone')
})

t.test('a dump of another schema is refused before anything changes', async (t) => {
  const source = await createTestDatabase('backup_src')
  const target = await createTestDatabase('backup_dst')
  t.teardown(source.cleanup)
  t.teardown(target.cleanup)
  await target.db.query('CREATE TABLE keep (x INT)')
  const connection = await connect(source.config)
  t.teardown(() => connection.end())
  const backup = await dumpSchema(connection, source.config, t.testdir({}), 'x')
  await t.rejects(restoreBackup(target.config, backup.file), BackupFailedError)
  const [tables] = await target.db.query<RowDataPacket[]>('SELECT table_name FROM information_schema.tables WHERE table_schema = ?', [target.schema])
  t.equal(tables.length, 1, 'the target schema is untouched')
})

t.test('a wrong password fails the dump with a message that does not contain it', async (t) => {
  const test = await createTestDatabase('backup_pw')
  t.teardown(test.cleanup)
  process.env.HANDOVER_TEST_WRONG_PASSWORD = 'not-the-password-42'
  const config = { ...test.config, password: { fromEnv: 'HANDOVER_TEST_WRONG_PASSWORD' } }
  const connection = await connect(test.config)
  t.teardown(() => connection.end())
  const error = (await dumpSchema(connection, config, t.testdir({}), 'x').catch((e: unknown) => e)) as Error
  t.type(error, BackupFailedError)
  t.notMatch(error.message, /not-the-password-42/)
})
