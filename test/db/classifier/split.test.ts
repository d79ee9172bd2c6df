import t from 'tap'
import { SplitChangesMeaningError, splitStatements, UnclassifiableStatementError, UnparseableStatementError } from '../../../src/db/classifier/index.js'
import { tokenizeScript } from '../../../src/db/migrations/scripts/sql-statements.js'
import { SHOP_SCHEMA } from './fixtures/shop-schema.js'

const statements = (text: string) => tokenizeScript(text).flatMap((token) => (token.kind === 'statement' ? [token.statement] : []))
const lines = (list: { statement: { line: number } }[]) => list.map((c) => c.statement.line)

t.test('moves every expand statement before every contract one, each part in file order', async (t) => {
  const script = `ALTER TABLE orders DROP COLUMN legacy_flag;
CREATE TABLE audit_log (id INT PRIMARY KEY);
DROP INDEX idx_old ON users;
ALTER TABLE orders ADD COLUMN note2 VARCHAR(20) NULL;
CREATE INDEX idx_created ON orders (created_at);
`
  const split = splitStatements('v2.sql', statements(script))
  t.same(lines(split.expand), [2, 4, 5])
  t.same(lines(split.contract), [1, 3])
})

t.test('a backfill of a column added earlier is expand, flagged for catch-up in contract', async (t) => {
  const script = `ALTER TABLE orders ADD COLUMN total_cents BIGINT NULL;
UPDATE orders SET total_cents = ROUND(total * 100) WHERE total_cents IS NULL;
ALTER TABLE orders DROP COLUMN total;
`
  const split = splitStatements('v2.sql', statements(script))
  t.same(lines(split.expand), [1, 2])
  t.match(split.expand[1], { kind: 'backfill', catchUp: true, reason: /backfills orders\.total_cents, added earlier in this script/ })
  t.same(lines(split.contract), [3])
})

t.test('an UPDATE through an alias of a multi-table join is a backfill when it writes only new columns', async (t) => {
  const script = `ALTER TABLE orders ADD COLUMN customer_name VARCHAR(100) NULL;
UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.customer_name = c.name;
UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.customer_name = c.name, o.note = 'x'`
  const split = splitStatements('v2.sql', statements(script))
  t.match(split.expand[1], { kind: 'backfill', catchUp: true })
  t.match(split.contract[0], { kind: 'dml', reason: /orders\.note exists before this script/ })
})

t.test('filling a new table: INSERT ... SELECT catches up only when it can run twice', async (t) => {
  const script = `CREATE TABLE order_totals (order_id INT PRIMARY KEY, total DECIMAL(12,2) NOT NULL);
INSERT IGNORE INTO order_totals (order_id, total) SELECT id, total FROM orders;
INSERT INTO order_totals (order_id, total) SELECT id, total FROM orders ON DUPLICATE KEY UPDATE total = VALUES(total);
INSERT INTO order_totals SELECT id, total FROM orders;
INSERT INTO order_totals (order_id, total) VALUES (0, 0);
`
  const split = splitStatements('v2.sql', statements(script))
  t.same(lines(split.expand), [1, 2, 3, 4, 5])
  t.same(
    split.expand.slice(1).map((c) => [c.kind, c.catchUp]),
    [
      ['backfill', true],
      ['backfill', true],
      ['backfill', false],
      ['backfill', false],
    ],
  )
  t.match(split.expand[3]!.warning, /INSERT IGNORE or ON DUPLICATE KEY UPDATE/)
  t.match(split.expand[4]!.reason, /with fixed rows; nothing to catch up/)
})

t.test('an expand statement using what an earlier contract statement changed runs in the contract after it', async (t) => {
  const cases: [string, string, number, number][] = [
    ['ALTER TABLE orders DROP COLUMN note;\nALTER TABLE orders ADD COLUMN note TEXT NULL;', 'column orders.note', 2, 1],
    ['RENAME TABLE a TO b;\nCREATE INDEX idx_x ON b (x);', 'table b', 2, 1],
    ['DROP INDEX idx_a ON t;\nSELECT 1 FROM dual WHERE 0;'.split('\n')[0] + '\nALTER TABLE t ADD INDEX idx_a (b);', 'index idx_a of t', 2, 1],
    ['DROP TABLE sessions;\n\nCREATE TABLE sessions (id INT);', 'table sessions', 3, 1],
    ['ALTER TABLE orders RENAME COLUMN note TO remark;\nALTER TABLE orders ADD INDEX idx_remark (remark);', 'column orders.remark', 2, 1],
    ['INSERT INTO orders_archive SELECT * FROM orders;\nALTER TABLE orders ADD COLUMN c INT NULL;', 'column orders.c', 2, 1],
  ]
  for (const [script, , expandLine, contractLine] of cases) {
    const split = splitStatements('v3.sql', statements(script))
    t.same(lines(split.expand), [], script)
    t.same(lines(split.contract), [contractLine, expandLine], `${script}: both run in the contract, in file order`)
    t.match(split.contract[1], { deferredBy: contractLine, reason: new RegExp(`after the contract statement at v3.sql:${contractLine}`) }, script)
  }
})

t.test('a marked expand statement after a contract one it depends on is still refused', async (t) => {
  const error = t.throws(() =>
    splitStatements('v3.sql', [
      { sql: 'ALTER TABLE orders DROP COLUMN note', line: 1 },
      { sql: 'ALTER TABLE orders ADD COLUMN note TEXT NULL', line: 2, marked: 'expand' },
    ]),
  ) as SplitChangesMeaningError
  t.match(error, { code: 'SPLIT_CHANGES_MEANING', expandLine: 2, contractLine: 1, object: 'column orders.note' })
})

t.test('a contract statement followed by an unrelated expand one splits fine', async (t) => {
  const script = `DELETE FROM sessions WHERE expires_at < NOW();
ALTER TABLE sessions ADD INDEX idx_expires (expires_at);
ALTER TABLE orders DROP COLUMN note;
ALTER TABLE orders ADD COLUMN remark TEXT NULL;
`
  const split = splitStatements('v2.sql', statements(script))
  t.same(lines(split.expand), [2, 4])
  t.same(lines(split.contract), [1, 3])
})

t.test('a foreign key ties its child to the parent columns only', async (t) => {
  const fk = 'ALTER TABLE orders ADD CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id);\n'
  const split = splitStatements('v2.sql', statements(fk + 'ALTER TABLE customers ADD COLUMN email VARCHAR(100) NULL;'), SHOP_SCHEMA)
  t.same(lines(split.expand), [2])
  const after = splitStatements('v2.sql', statements(fk + 'ALTER TABLE customers MODIFY id BIGINT NOT NULL;'), SHOP_SCHEMA)
  t.same(lines(after.contract), [1, 2], 'a widening of the parent column the key uses runs after the key, in the contract')
})

t.test('the schema carries forward through the script: a column added then widened is known', async (t) => {
  const script = `ALTER TABLE orders ADD COLUMN memo VARCHAR(20) NULL;
ALTER TABLE orders MODIFY memo VARCHAR(40) NULL;
ALTER TABLE orders MODIFY note VARCHAR(10) NULL;
`
  const split = splitStatements('v2.sql', statements(script), SHOP_SCHEMA)
  t.same(
    split.expand.map((c) => c.kind),
    ['add-column', 'widen-column'],
  )
  t.same(
    split.contract.map((c) => c.kind),
    ['narrow-column'],
  )
})

t.test('throws the first problem in file order as a typed error', async (t) => {
  t.throws(() => splitStatements('v4.sql', statements('ALTER TABLE t ADD c INT;\nGRANT SELECT ON db.* TO app;')), UnclassifiableStatementError)
  t.throws(() => splitStatements('v4.sql', statements('ALTER TABLE t ADD c INT;\nALTER TABLE t FROBNICATE;')), UnparseableStatementError)
  const mixed = splitStatements('v4.sql', statements('ALTER TABLE t ADD c INT NULL, DROP COLUMN d;'))
  t.same([lines(mixed.expand), lines(mixed.contract)], [[], [1]], 'an ALTER mixing both parts runs whole in the contract')
  t.match(mixed.contract[0]!.reason, /runs in the contract with the rest of this ALTER \(drop-column d\)/)
})

t.test('a statement marked explicitly keeps its part even when the parser cannot read it', async (t) => {
  const split = splitStatements('v5.sql', [
    { sql: 'ALTER TABLE t ADD COLUMN c INT NULL', line: 2, marked: 'expand' },
    { sql: "CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.c = 1", line: 3, marked: 'expand' },
    { sql: 'ALTER TABLE t FROBNICATE', line: 5, marked: 'contract' },
  ])
  t.same(lines(split.expand), [2, 3])
  t.match(split.expand[1], { kind: 'marked', part: 'expand', marked: 'expand', reason: /explicitly marked expand/ })
  t.match(split.contract[0], { kind: 'marked', part: 'contract', reason: /cannot read/ })
})

t.test('a marker decides the part of a statement the classifier reads differently', async (t) => {
  const split = splitStatements('v5.sql', [{ sql: 'ALTER TABLE t DROP COLUMN c', line: 2, marked: 'expand' }])
  t.equal(split.expand.length, 1)
  t.match(split.expand[0], { part: 'contract', marked: 'expand', kind: 'drop-column' })
})

t.test('two MODIFYs of one column keep their order across the split even when values stay: the later definition wins', async (t) => {
  const schema = { tables: { s: { id: { type: 'int(11)', nullable: false, hasDefault: false, primaryKey: true }, start: { type: 'datetime', nullable: true, hasDefault: false } } } }
  const split = splitStatements('v.sql', [
    { sql: 'ALTER TABLE s MODIFY start DATETIME NOT NULL', line: 1 },
    { sql: 'ALTER TABLE s MODIFY start DATETIME(6) NULL', line: 2 },
  ], schema)
  t.same(split.expand.map((statement) => statement.statement.line), [], 'the later MODIFY is not run before the earlier contract one')
  t.same(split.contract.map((statement) => statement.statement.line), [1, 2])
  t.equal(split.contract[1]!.deferredBy, 1)
})
