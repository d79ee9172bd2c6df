import t from 'tap'
import { HandoverError } from '../../../src/errors.js'
import { classifyStatement, splitStatements, UnclassifiableStatementError, UnparseableStatementError } from '../../../src/db/classifier/index.js'
import { tokenizeScript } from '../../../src/db/migrations/scripts/sql-statements.js'

const statements = (text: string) => tokenizeScript(text).flatMap((token) => (token.kind === 'statement' ? [token.statement] : []))

t.test('a statement the parser cannot read is an error naming file and line', async (t) => {
  const script = 'ALTER TABLE orders ADD COLUMN a INT NULL;\n\n-- renames are not supported by the parser\nALTER TABLE orders\n  RENAME INDEX idx_a TO idx_b;\n'
  const error = t.throws(() => splitStatements('migrations/v7.sql', statements(script))) as UnparseableStatementError
  t.type(error, UnparseableStatementError)
  t.type(error, HandoverError)
  t.match(error, { code: 'UNPARSEABLE_STATEMENT', file: 'migrations/v7.sql', line: 4 })
  t.match(error.message, /^migrations\/v7\.sql:4: the SQL parser cannot read this statement \(unexpected "i" at line 5, column 16\)/)
  t.match(error.message, /-- handover:expand/)
})

t.test('statements the parser cannot read are named, not guessed', async (t) => {
  for (const sql of [
    "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new'",
    'CREATE OR REPLACE TABLE t (id INT)',
    'ALTER TABLE t ADD COLUMN id UUID NULL',
    'ALTER TABLE t ADD COLUMN (a INT, b INT)',
    'ALTER TABLE orders ADD COLUMN',
  ]) {
    t.throws(() => classifyStatement({ sql, line: 9 }), { code: 'UNPARSEABLE_STATEMENT', line: 9 }, sql)
  }
})

t.test('a statement that parses but has no rule is refused with the reason', async (t) => {
  const cases: [string, RegExp][] = [
    ["GRANT SELECT ON shop.* TO 'app'@'%'", /GRANT is neither a table, column or index change nor DML/],
    ['CREATE VIEW v_orders AS SELECT id FROM orders', /CREATE VIEW/],
    ['CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1', /CREATE TRIGGER/],
    ['DROP VIEW v_orders', /DROP VIEW/],
    ['SET FOREIGN_KEY_CHECKS = 0', /SET is neither/],
    ['SELECT COUNT(*) FROM orders FOR UPDATE', /SELECT is neither/],
    ['ALTER TABLE orders ALGORITHM=INSTANT', /changes nothing but how it runs/],
    ['CREATE TABLE t2 AS SELECT * FROM t', /fill it with INSERT \.\.\. SELECT/],
    ['CREATE TEMPORARY TABLE tmp (id INT)', /temporary table lives in one session/],
  ]
  for (const [sql, reason] of cases) {
    const error = t.throws(() => classifyStatement({ sql, line: 3 }, { file: 'v2.sql' })) as UnclassifiableStatementError
    t.type(error, UnclassifiableStatementError, sql)
    t.match(error, { code: 'UNCLASSIFIABLE_STATEMENT', file: 'v2.sql', line: 3 }, sql)
    t.match(error.message, reason, sql)
    t.match(error.message, /^v2\.sql:3: /, sql)
  }
})

t.test('one ALTER mixing expand and contract clauses runs whole in the contract', async (t) => {
  const result = classifyStatement({ sql: 'ALTER TABLE orders ADD COLUMN a INT NULL, DROP COLUMN b, ALGORITHM=INPLACE', line: 12 }, { file: 'v3.sql' })
  t.match(result, { part: 'contract', kind: 'alter-table' })
  t.same(result.clauses.map((clause) => [clause.kind, clause.part]), [['add-column', 'contract'], ['drop-column', 'contract']])
  t.match(result.reason, /adds nullable column orders\.a INT.*runs in the contract with the rest of this ALTER \(drop-column b\)/)
})

t.test('an ALTER whose clauses are all contract is one contract statement', async (t) => {
  const result = classifyStatement({ sql: 'ALTER TABLE orders DROP COLUMN a, ADD COLUMN b INT NOT NULL', line: 1 })
  t.match(result, { part: 'contract', kind: 'alter-table' })
  t.same(
    result.clauses.map((clause) => clause.kind),
    ['drop-column', 'add-not-null-column'],
  )
})

t.test('a bad type in the schema model is invalid input, named', async (t) => {
  t.throws(
    () => classifyStatement({ sql: 'ALTER TABLE t DROP COLUMN a', line: 1 }, { schema: { tables: { t: { a: { type: 'not a type(', nullable: true, hasDefault: false } } } } }),
    { code: 'INVALID_INPUT', where: 'schema model t.a' },
  )
})
