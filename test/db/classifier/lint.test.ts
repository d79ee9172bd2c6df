import t from 'tap'
import { lintScript, type LintFinding } from '../../../src/db/classifier/index.js'
import { tokenizeScript } from '../../../src/db/migrations/scripts/sql-statements.js'
import { SHOP_SCHEMA } from './fixtures/shop-schema.js'

const statements = (text: string) => tokenizeScript(text).flatMap((token) => (token.kind === 'statement' ? [token.statement] : []))
const brief = (findings: LintFinding[]) => findings.map((f) => `${f.line} ${f.severity} ${f.part ?? '-'} ${f.kind}${f.code ? ` ${f.code}` : ''}`)

t.test('reports every finding of a script in one go, in line order', async (t) => {
  const script = `ALTER TABLE orders ADD COLUMN total_cents BIGINT NULL;
UPDATE orders SET total_cents = ROUND(total * 100);
ALTER TABLE orders DROP COLUMN total;
ALTER TABLE orders ADD COLUMN total INT NULL;
CREATE TRIGGER trg BEFORE INSERT ON orders FOR EACH ROW SET NEW.note = 'x';
ALTER TABLE orders RENAME INDEX a TO b;
ALTER TABLE orders ADD COLUMN a INT NULL, DROP COLUMN b;
ALTER TABLE orders MODIFY note VARCHAR(100) NULL;
`
  const report = lintScript('migrations/v3.sql', statements(script))
  t.same(brief(report.findings), [
    '1 info expand add-column',
    '2 info expand backfill',
    '3 info contract drop-column',
    '4 info contract add-column',
    '5 error - error UNCLASSIFIABLE_STATEMENT',
    '6 error - error UNPARSEABLE_STATEMENT',
    '7 info contract alter-table',
    '8 info contract modify-column',
  ])
  t.equal(report.errors, 2)
  t.equal(report.warnings, 0)
  for (const finding of report.findings) {
    t.equal(finding.file, 'migrations/v3.sql')
    t.ok(finding.reason.length > 10)
  }
  t.match(report.findings[7]!.reason, /needs the current column type/)
  t.match(report.findings[3]!.reason, /runs in the contract, after the contract statement at migrations\/v3.sql:3/)
})

t.test('with the schema model, a widening is expand', async (t) => {
  const report = lintScript('v3.sql', statements('ALTER TABLE orders MODIFY note VARCHAR(100) NULL;'), SHOP_SCHEMA)
  t.same(brief(report.findings), ['1 info expand widen-column'])
  t.equal(report.errors, 0)
})

t.test('warns when a marker calls expand what the classifier sees as contract', async (t) => {
  const report = lintScript('v4.sql', [
    { sql: 'ALTER TABLE orders DROP COLUMN note', line: 2, marked: 'expand' },
    { sql: 'ALTER TABLE orders ADD COLUMN note2 INT NULL', line: 4, marked: 'contract' },
    { sql: 'CREATE VIEW v AS SELECT 1', line: 6, marked: 'expand' },
  ])
  t.same(brief(report.findings), ['2 info expand drop-column', '2 warning expand drop-column', '4 info contract add-column', '6 info expand marked'])
  t.match(report.findings[1]!.reason, /marked expand, but the old version may not tolerate it: drops column orders\.note/)
  t.equal(report.errors, 0)
  t.equal(report.warnings, 1)
})

t.test('a split conflict between two marked statements is a warning, not an error', async (t) => {
  const report = lintScript('v5.sql', [
    { sql: 'ALTER TABLE t DROP COLUMN c', line: 2, marked: 'contract' },
    { sql: 'ALTER TABLE t ADD COLUMN c INT NULL', line: 3, marked: 'expand' },
  ])
  t.same(brief(report.findings), ['2 info contract drop-column', '3 info expand add-column', '3 warning expand split SPLIT_CHANGES_MEANING'])
})

t.test('passes the warning of a backfill that cannot catch up', async (t) => {
  const report = lintScript('v6.sql', statements('CREATE TABLE t2 (id INT PRIMARY KEY);\nINSERT INTO t2 (id) SELECT id FROM t;'))
  t.same(brief(report.findings), ['1 info expand create-table', '2 info expand backfill', '2 warning expand backfill'])
  t.match(report.findings[2]!.reason, /INSERT IGNORE or ON DUPLICATE KEY UPDATE/)
})

t.test('an empty script has nothing to report', async (t) => {
  t.same(lintScript('v7.sql', []), { findings: [], errors: 0, warnings: 0 })
})
