import t from 'tap'
import { InvalidInputError } from '../../../src/errors.js'
import { parseScript, readScripts } from '../../../src/db/migrations/scripts/migration-script.js'

t.test('sorts statements into their parts', async (t) => {
  const script = parseScript('/m/v2.sql', 'v2.sql', '-- handover:expand\nA;\nB;\n-- handover:expand-undo\nC;\n-- handover:contract\nD;\n-- handover:contract-undo\nE;\n')
  t.same(script.version, [2])
  t.same(
    Object.fromEntries(Object.entries(script.parts).map(([part, list]) => [part, list.map((s) => s.sql)])),
    { expand: ['A', 'B'], contract: ['D'], 'expand-undo': ['C'], 'contract-undo': ['E'] },
  )
  t.match(script.checksum, /^[0-9a-f]{64}$/)
})

t.test('in a marked script, a statement before the first marker is refused with file and line', async (t) => {
  const error = t.throws(() => parseScript('/m/v2.sql', 'v2.sql', '\nALTER TABLE x ADD y INT;\n-- handover:expand\nSELECT 1;\n')) as InvalidInputError
  t.type(error, InvalidInputError)
  t.equal(error.where, '/m/v2.sql:2')
})

t.test('an unmarked script is split by the classifier, with backfills caught up and undo derived', async (t) => {
  const script = parseScript(
    '/m/v2.sql',
    'v2.sql',
    `ALTER TABLE people ADD COLUMN first_name VARCHAR(100) NULL;
UPDATE people SET first_name = SUBSTRING_INDEX(name, ' ', 1) WHERE first_name IS NULL;
ALTER TABLE people DROP COLUMN name;
CREATE INDEX by_first ON people (first_name);
`,
  )
  t.equal(script.marked, false)
  const sqlOf = (part: keyof typeof script.parts) => script.parts[part].map((s) => s.sql.split(/\s+/).slice(0, 5).join(' '))
  t.same(sqlOf('expand'), ['ALTER TABLE people ADD COLUMN', 'UPDATE people SET first_name =', 'CREATE INDEX by_first ON people'])
  t.same(sqlOf('contract'), ['UPDATE people SET first_name =', 'ALTER TABLE people DROP COLUMN'], 'the backfill runs again first, then the drop')
  t.same(script.parts.contract.map((s) => s.catchUpOf), [1, undefined], 'the catch-up is linked to its backfill, so the capture can stand in for it')
  t.same(script.parts.contract.map((s) => s.line), [2, 3])
  t.equal(script.parts['expand-undo'].length, 2, 'the index and the column are undone')
  t.match(script.parts['expand-undo'][0]!.sql, /DROP INDEX/, 'newest first')
  t.match(script.parts['expand-undo'][1]!.sql, /DROP COLUMN/)
  t.same(script.undoProblems, [])
  t.equal(script.parts.contract[1]!.classified?.kind, 'drop-column', 'the executor knows what the contract drops')
})

t.test('an unmarked contract change handover cannot undo is named', async (t) => {
  const script = parseScript('/m/v3.sql', 'v3.sql', 'ALTER TABLE people DROP COLUMN a, ADD UNIQUE KEY b (b);\n')
  t.match(script.undoProblems, [/\/m\/v3\.sql:1 \(alter-table\): this contract change has no undo handover can derive .*give a `-- handover:contract-undo`/])
  t.same(parseScript('/m/v3.sql', 'v3.sql', 'UPDATE people SET a = a + 1;\n').undoProblems, [], 'a data change is undone from a copy of its rows')
})

t.test('an unmarked contract change of definition only is undone by putting the definition back: no problem to report', async (t) => {
  t.same(parseScript('/m/v3.sql', 'v3.sql', 'ALTER TABLE people RENAME COLUMN a TO b;\n').undoProblems, [], 'a rename')
  t.same(parseScript('/m/v3.sql', 'v3.sql', 'ALTER TABLE people ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES t (id);\n').undoProblems, [], 'a foreign key')
  t.match(parseScript('/m/v3.sql', 'v3.sql', 'ALTER TABLE people MODIFY a VARCHAR(10);\n').undoProblems, [/modify-column/], 'a MODIFY of a column the model does not know may change values: refused')
})

t.test('a marked part without its -undo part is named, so plan and lint refuse what preflight refuses', async (t) => {
  const script = parseScript('/m/v3.sql', 'v3.sql', '-- handover:expand\nALTER TABLE a ADD b INT NULL;\n-- handover:contract\nDROP TABLE c;\n-- handover:contract-undo\nCREATE TABLE c (x INT);\n')
  t.same(script.undoProblems, ['/m/v3.sql: expand statements but no `-- handover:expand-undo` part'])
  t.same(parseScript('/m/v3.sql', 'v3.sql', '-- handover:expand\nA;\n-- handover:expand-undo\nB;\n').undoProblems, [])
})

t.test('an unmarked expand statement that depends on an earlier contract one runs after it in the contract', async (t) => {
  const script = parseScript('/m/v3.sql', 'v3.sql', 'ALTER TABLE people DROP COLUMN a;\nALTER TABLE people ADD COLUMN a INT NULL;\n')
  t.same(script.parts.expand, [])
  t.same(script.parts.contract.map((statement) => statement.line), [1, 2])
  t.same(script.parts['contract-undo'].map((statement) => statement.sql), ['ALTER TABLE `people` DROP COLUMN IF EXISTS `a`'], 'the deferred addition keeps its derived undo')
})

t.test('marked statements are classified too, so a marked drop can be soft', async (t) => {
  const script = parseScript('/m/v2.sql', 'v2.sql', '-- handover:contract\nALTER TABLE people DROP COLUMN name;\n-- handover:contract-undo\nSELECT 1;\n')
  t.equal(script.parts.contract[0]!.classified?.kind, 'drop-column')
  t.equal(script.parts.contract[0]!.classified?.column, 'name')
})

t.test('an unknown marker is refused', async (t) => {
  t.throws(() => parseScript('/m/v2.sql', 'v2.sql', '-- handover:expnad\nA;'), /unknown marker handover:expnad/)
})

t.test('a badly named file is refused', async (t) => {
  t.throws(() => parseScript('/m/2.sql', '2.sql', ''), InvalidInputError)
})

t.test('reads a directory in version order, singles and bundles', async (t) => {
  const dir = t.testdir({
    'v1.sql': '-- handover:expand\nA;',
    'v1.10.sql': '-- handover:expand\nB;',
    'v1.9.sql': '-- handover:expand\nC;',
    'v1-v1.10.sql': '-- handover:expand\nD;',
    'README.md': 'not a script',
  })
  const scripts = readScripts(dir)
  t.same(scripts.map((s) => s.name), ['v1.sql', 'v1.9.sql', 'v1.10.sql', 'v1-v1.10.sql'])
  t.same(scripts[3]!.bundleFrom, [1])
  t.same(scripts[3]!.version, [1, 10])
})

t.test('two files covering the same versions are refused', async (t) => {
  t.throws(() => readScripts(t.testdir({ 'v2.sql': '', 'v2.0.sql': '' })), /covers the same versions as v2/)
  t.throws(() => readScripts(t.testdir({ 'v1-v2.sql': '', 'v1.0-v2.0.sql': '' })), /covers the same versions/)
})

t.test('a bundle that goes down is refused', async (t) => {
  t.throws(() => parseScript('/m/v3-v2.sql', 'v3-v2.sql', ''), /a bundle must go up/)
})

t.test('a USE statement in any part is refused with file and line: it would move later statements out of the schema (or the rehearsal copy)', async (t) => {
  for (const text of ['-- handover:expand\nUSE shop;\nCREATE TABLE t (id INT PRIMARY KEY);\n', 'CREATE TABLE t (id INT PRIMARY KEY);\n\nuse `shop`;\n']) {
    t.throws(() => parseScript('/m/v2.sql', 'v2.sql', text), { name: 'InvalidInputError', message: /^\/m\/v2\.sql:[23]: USE switches the schema/ })
  }
  t.doesNotThrow(() => parseScript('/m/v2.sql', 'v2.sql', "-- handover:expand\nUPDATE t SET note = 'USE x';\n"), 'a USE inside a string is no statement')
})

t.test("a marked script's contract UPDATE equal to an expand backfill (whitespace aside) is linked to it; one with another WHERE is not", async (t) => {
  const script = parseScript(
    '/m/v2.sql',
    'v2.sql',
    `-- handover:expand
ALTER TABLE people ADD COLUMN first_name VARCHAR(100) NULL;
UPDATE people SET first_name = SUBSTRING_INDEX(name, ' ', 1) WHERE first_name IS NULL;
-- handover:expand-undo
ALTER TABLE people DROP COLUMN IF EXISTS first_name;
-- handover:contract
UPDATE people
   SET first_name = SUBSTRING_INDEX(name, ' ', 1)
 WHERE first_name IS NULL;
UPDATE people SET first_name = SUBSTRING_INDEX(name, ' ', 1) WHERE first_name IS NULL AND id > 100;
-- handover:contract-undo
SELECT 1;
`,
  )
  t.same(script.parts.contract.map((s) => s.catchUpOf), [1, undefined])
})
