import t from 'tap'
import { tokenizeScript } from '../../../src/db/migrations/scripts/sql-statements.js'

const statements = (text: string) =>
  tokenizeScript(text).flatMap((token) => (token.kind === 'statement' ? [token.statement] : []))

t.test('splits at semicolons outside quotes and comments', async (t) => {
  const sql = `INSERT INTO t VALUES ('a;b', "c;d", \`e;f\`);
-- a comment; with a semicolon
UPDATE t SET x = 'it''s; fine' /* block; comment */ WHERE y = 1;
# hash comment;
SELECT 'back\\'slash;'`
  const found = statements(sql)
  t.same(
    found.map((s) => s.sql),
    ["INSERT INTO t VALUES ('a;b', \"c;d\", `e;f`)", "UPDATE t SET x = 'it''s; fine'   WHERE y = 1", "SELECT 'back\\'slash;'"],
  )
  t.same(found.map((s) => s.line), [1, 3, 5])
})

t.test('reports markers only between statements, with their lines', async (t) => {
  const tokens = tokenizeScript('-- handover:expand\nCREATE TABLE a (x INT);\n\n-- handover:contract\nDROP TABLE b;\n')
  t.same(
    tokens.map((token) => (token.kind === 'marker' ? `marker ${token.marker.name}@${token.marker.line}` : `sql@${token.statement.line}`)),
    ['marker expand@1', 'sql@2', 'marker contract@4', 'sql@5'],
  )
})

t.test('a marker-looking comment inside a statement is not a marker', async (t) => {
  const tokens = tokenizeScript('SELECT 1\n-- handover:contract\nFROM dual;')
  t.equal(tokens.length, 1)
  t.equal(tokens[0]!.kind, 'statement')
})

t.test('an empty script has no statements', async (t) => {
  t.same(tokenizeScript('  \n -- just a comment\n'), [])
})
