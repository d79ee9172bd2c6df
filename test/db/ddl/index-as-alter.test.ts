import t from 'tap'
import { indexStatementAsAlter } from '../../../src/db/ddl/index-as-alter.js'

t.test('CREATE INDEX and DROP INDEX become the ALTER TABLE that does the same', async (t) => {
  t.equal(indexStatementAsAlter('CREATE INDEX SPRING_SESSION_IX2 ON SPRING_SESSION (EXPIRY_TIME)'), 'ALTER TABLE SPRING_SESSION ADD INDEX SPRING_SESSION_IX2 (EXPIRY_TIME)')
  t.equal(indexStatementAsAlter('create unique index `u x` on `shop`.`orders` (`a`, b(10)) COMMENT \'k\''), "ALTER TABLE `shop`.`orders` ADD UNIQUE INDEX `u x` (`a`, b(10)) COMMENT 'k'")
  t.equal(indexStatementAsAlter('CREATE INDEX IF NOT EXISTS i USING BTREE ON t (a DESC)'), 'ALTER TABLE t ADD INDEX IF NOT EXISTS i USING BTREE (a DESC)')
  t.equal(indexStatementAsAlter('DROP INDEX i ON t'), 'ALTER TABLE t DROP INDEX i')
  t.equal(indexStatementAsAlter('DROP INDEX IF EXISTS `i` ON `t`'), 'ALTER TABLE `t` DROP INDEX IF EXISTS `i`')
})

t.test('anything else, or an index statement with its own algorithm, lock or wait, is left as written', async (t) => {
  for (const sql of ['ALTER TABLE t ADD INDEX i (a)', 'CREATE TABLE t (id INT)', 'CREATE INDEX i ON t (a) ALGORITHM=INPLACE', 'DROP INDEX i ON t NOWAIT', 'CREATE OR REPLACE INDEX i ON t (a)', 'DROP TABLE t']) {
    t.equal(indexStatementAsAlter(sql), undefined, sql)
  }
})
