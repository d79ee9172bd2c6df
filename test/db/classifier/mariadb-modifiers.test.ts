import t from 'tap'
import { maskQuoted, stripMariadbModifiers } from '../../../src/db/classifier/mariadb-modifiers.js'

const squash = (sql: string) => sql.replace(/\s+/g, ' ').trim()

t.test('cuts MariaDB IF [NOT] EXISTS out of ALTER clauses and index statements, and says so', async (t) => {
  const cases: [string, string, { ifNotExists: boolean; ifExists: boolean }][] = [
    ['ALTER TABLE t ADD COLUMN IF NOT EXISTS c INT', 'ALTER TABLE t ADD COLUMN c INT', { ifNotExists: true, ifExists: false }],
    ['ALTER TABLE t ADD IF NOT EXISTS c INT', 'ALTER TABLE t ADD c INT', { ifNotExists: true, ifExists: false }],
    ['alter table t drop column if exists c', 'alter table t drop column c', { ifNotExists: false, ifExists: true }],
    ['ALTER TABLE t ADD INDEX IF NOT EXISTS i (c), DROP INDEX IF EXISTS j', 'ALTER TABLE t ADD INDEX i (c), DROP INDEX j', { ifNotExists: true, ifExists: true }],
    ['ALTER TABLE t ADD UNIQUE KEY IF NOT EXISTS u (c)', 'ALTER TABLE t ADD UNIQUE KEY u (c)', { ifNotExists: true, ifExists: false }],
    ['ALTER TABLE t DROP FOREIGN KEY IF EXISTS fk', 'ALTER TABLE t DROP FOREIGN KEY fk', { ifNotExists: false, ifExists: true }],
    ['ALTER TABLE t MODIFY COLUMN IF EXISTS c BIGINT', 'ALTER TABLE t MODIFY COLUMN c BIGINT', { ifNotExists: false, ifExists: true }],
    ['ALTER TABLE t CHANGE COLUMN IF EXISTS a b INT', 'ALTER TABLE t CHANGE COLUMN a b INT', { ifNotExists: false, ifExists: true }],
    ['CREATE UNIQUE INDEX IF NOT EXISTS u ON t (c)', 'CREATE UNIQUE INDEX u ON t (c)', { ifNotExists: true, ifExists: false }],
    ['DROP INDEX IF EXISTS i ON t', 'DROP INDEX i ON t', { ifNotExists: false, ifExists: true }],
  ]
  for (const [sql, stripped, flags] of cases) {
    const result = stripMariadbModifiers(sql)
    t.equal(squash(result.sql), stripped, sql)
    t.match(result.modifiers, flags, sql)
  }
})

t.test('cuts WAIT n and NOWAIT after the table name of an ALTER TABLE', async (t) => {
  t.match(stripMariadbModifiers('ALTER TABLE `shop`.`t` WAIT 5 ADD COLUMN c INT'), { sql: /^ALTER TABLE `shop`.`t`\s+ADD COLUMN c INT$/, modifiers: { wait: 'WAIT 5' } })
  t.match(stripMariadbModifiers('ALTER TABLE t NOWAIT DROP COLUMN c'), { sql: /^ALTER TABLE t\s+DROP COLUMN c$/, modifiers: { wait: 'NOWAIT' } })
})

t.test('keeps positions: the cut text is blanked, newlines stay', async (t) => {
  const sql = 'ALTER TABLE t\n  ADD COLUMN IF\n NOT EXISTS c INT'
  const result = stripMariadbModifiers(sql)
  t.equal(result.sql.length, sql.length)
  t.equal(result.sql.split('\n').length, 3)
})

t.test('never touches quoted text or other statements', async (t) => {
  const untouched = [
    "ALTER TABLE t ADD COLUMN c VARCHAR(20) DEFAULT 'add if not exists' NULL",
    'ALTER TABLE t ADD COLUMN `drop if exists` INT',
    "UPDATE t SET note = 'ADD COLUMN IF NOT EXISTS x'",
    'SELECT * FROM t WHERE NOT EXISTS (SELECT 1 FROM u)',
    'CREATE TABLE IF NOT EXISTS t (id INT)',
    'DROP TABLE IF EXISTS t',
  ]
  for (const sql of untouched) t.same(stripMariadbModifiers(sql), { sql, modifiers: { ifNotExists: false, ifExists: false } }, sql)
})

t.test('masks quoted text with the same length', async (t) => {
  const sql = "a 'it''s' \"q\\\"x\" `b``c` d"
  const masked = maskQuoted(sql)
  t.equal(masked.length, sql.length)
  t.equal(masked, "a '_____' \"____\" `____` d")
  t.equal(maskQuoted("x 'open"), "x '____")
})
