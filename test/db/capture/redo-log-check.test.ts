/**
 * The warning that the expand rewrites a table bigger than the server's redo log, on the real
 * MariaDB: the redo log is resized (online) to less than the table for the test and set back.
 */
import t from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { redoLogAdvice, redoLogShortfall, rewrittenTables } from '../../../src/db/capture/redo-log-check.js'
import { createTestDatabase } from '../../support/test-database.js'

const MIB = 1024 * 1024

t.test('a table bigger than the redo log is named with both sizes and the online remedy; a smaller one is not', async (t) => {
  const test = await createTestDatabase('redolog')
  t.teardown(test.cleanup)
  await test.db.query(`CREATE TABLE big (id INT PRIMARY KEY, pad CHAR(100) NOT NULL) ENGINE=InnoDB;
    INSERT INTO big SELECT seq, REPEAT('x', 100) FROM seq_1_to_200000;
    CREATE TABLE small (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO small VALUES (1);
    ANALYZE TABLE big, small`)
  const [size] = await test.db.query<RowDataPacket[]>("SELECT DATA_LENGTH + INDEX_LENGTH AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'big'", [test.schema])
  const bigBytes = Number(size[0]!.bytes)
  t.ok(bigBytes > 16 * MIB, `the big table takes ${(bigBytes / MIB).toFixed(1)} MiB`)
  const [redo] = await test.db.query<RowDataPacket[]>('SELECT @@GLOBAL.innodb_log_file_size AS size')
  const original = Number(redo[0]!.size)
  t.teardown(() => test.db.query('SET GLOBAL innodb_log_file_size = ?', [original]).then(() => undefined))
  // The smallest the server takes: it must hold the 16 MiB log buffer.
  await test.db.query('SET GLOBAL innodb_log_file_size = ?', [16 * MIB])

  const shortfall = await redoLogShortfall(test.db as never, test.schema, ['small', 'big'])
  t.same(shortfall, { table: 'big', tableMib: Math.ceil(bigBytes / MIB), redoLogMib: 16 })
  t.match(redoLogAdvice(shortfall!), /the expand rewrites big \(~\d+ MiB\), more than the server's redo log \(16 MiB\).*SET GLOBAL innodb_log_file_size = \d+/)
  t.equal(await redoLogShortfall(test.db as never, test.schema, ['small']), undefined, 'a table that fits says nothing')
  t.equal(await redoLogShortfall(test.db as never, test.schema, []), undefined, 'an expand that rewrites no table says nothing')
})

t.test('the tables the expand rewrites are those of its backfills and its online rebuilds', async (t) => {
  const scripts = [{ name: 'v2.sql', parts: { expand: [{ classified: { table: 'people' } }, { classified: { table: 'orders' } }] } }]
  const rehearsed = [
    { script: 'v2.sql', part: 'expand', index: 0 },
    { script: 'v2.sql', part: 'expand', index: 1, backfill: { capture: 'row-trigger' } },
    { script: 'v2.sql', part: 'contract', index: 0, backfill: { capture: 'row-trigger' } },
  ]
  t.same(rewrittenTables(scripts, rehearsed, [{ table: 'events' }]), ['orders', 'events'])
})
