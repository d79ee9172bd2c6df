import t from 'tap'
import { classifyStatement, splitStatements } from '../../../src/db/classifier/index.js'
import { SHOP_SCHEMA } from './fixtures/shop-schema.js'

const classify = (sql: string, withSchema = false) => classifyStatement({ sql, line: 1 }, withSchema ? { schema: SHOP_SCHEMA } : {})

t.test('derives the SQL that reverses an expand statement', async (t) => {
  const cases: [string, string][] = [
    ['ALTER TABLE orders ADD COLUMN note2 VARCHAR(20) NULL', 'ALTER TABLE `orders` DROP COLUMN IF EXISTS `note2`'],
    ['ALTER TABLE `shop`.`orders` ADD `weird``name` INT NULL', 'ALTER TABLE `shop`.`orders` DROP COLUMN IF EXISTS `weird``name`'],
    ['CREATE TABLE audit_log (id INT PRIMARY KEY)', 'DROP TABLE IF EXISTS `audit_log`'],
    ['CREATE TABLE shop.orders_archive LIKE orders', 'DROP TABLE IF EXISTS `shop`.`orders_archive`'],
    ['CREATE INDEX idx_email ON users (email)', 'DROP INDEX IF EXISTS `idx_email` ON `users`'],
    ['ALTER TABLE orders ADD INDEX idx_created (created_at), ALGORITHM=INPLACE, LOCK=NONE', 'ALTER TABLE `orders` DROP INDEX IF EXISTS `idx_created`'],
    [
      'ALTER TABLE orders ADD COLUMN a INT NULL, ADD COLUMN b INT NULL, ADD INDEX idx_ab (a, b)',
      'ALTER TABLE `orders` DROP INDEX IF EXISTS `idx_ab`, DROP COLUMN IF EXISTS `b`, DROP COLUMN IF EXISTS `a`',
    ],
  ]
  for (const [sql, undo] of cases) t.equal(classify(sql).undo, undo, sql)
})

t.test('IF NOT EXISTS: an undo only when the schema model says the object is new', async (t) => {
  const column = 'ALTER TABLE orders ADD COLUMN IF NOT EXISTS coupon VARCHAR(32) NULL'
  t.equal(classify(column).undo, undefined)
  t.match(classify(column).undoNote, /may exist already and its undo would drop its data/)
  t.equal(classify(column, true).undo, 'ALTER TABLE `orders` DROP COLUMN IF EXISTS `coupon`')
  const existing = classify('ALTER TABLE orders ADD COLUMN IF NOT EXISTS note VARCHAR(50) NULL', true)
  t.equal(existing.undo, undefined)
  t.match(existing.undoNote, /exists already, so ADD COLUMN IF NOT EXISTS changes nothing/)
  const table = 'CREATE TABLE IF NOT EXISTS invoices (id INT)'
  t.match(classify(table).undoNote, /may exist already/)
  t.equal(classify(table, true).undo, 'DROP TABLE IF EXISTS `invoices`')
  t.match(classify('CREATE TABLE IF NOT EXISTS orders (id INT)', true).undoNote, /orders exists already/)
})

t.test('no undo where keeping the change is harmless or it cannot be derived', async (t) => {
  t.match(classify('ALTER TABLE orders MODIFY note VARCHAR(100) NULL', true), { undo: undefined, undoNote: /wider type is compatible/ })
  t.match(classify('ALTER TABLE users MODIFY email VARCHAR(191) NULL', true), { undo: undefined, undoNote: /nullable column is compatible/ })
  t.match(classify('ALTER TABLE orders ADD INDEX (created_at)'), { undo: undefined, undoNote: /has no name and the table's index names are not known; name it/ })
})

t.test('contract statements carry no undo: soft contract renames instead of dropping', async (t) => {
  const drop = classify('ALTER TABLE orders DROP COLUMN note')
  t.equal(drop.undo, undefined)
  t.equal(drop.undoNote, undefined)
})

t.test('a backfill needs no undo of its own', async (t) => {
  const split = splitStatements('v2.sql', [
    { sql: 'ALTER TABLE orders ADD COLUMN total_cents BIGINT NULL', line: 1 },
    { sql: 'UPDATE orders SET total_cents = total * 100', line: 2 },
  ])
  t.match(split.expand[1], { kind: 'backfill', undo: undefined, undoNote: /undo of the added columns removes what it wrote/ })
})
