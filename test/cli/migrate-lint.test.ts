import t from 'tap'
import { fileURLToPath } from 'node:url'
import type { Output } from '../../src/cli/command.js'
import { main } from '../../src/cli/main.js'

const DEMO_MIGRATIONS = fileURLToPath(new URL('../../deploy/demo/migrations', import.meta.url))

function capture(): Output & { lines: string[] } {
  const lines: string[] = []
  return { lines, out: (line) => lines.push(line), err: (line) => lines.push(line) }
}

t.test('the demo scripts lint clean, each statement with its part, kind and reason', async (t) => {
  const output = capture()
  t.equal(await main(['migrate', 'lint', '--dir', DEMO_MIGRATIONS], output), 0)
  const text = output.lines.join('\n')
  t.match(text, /v2\.sql:\d+ {2}expand add-column: adds nullable column people\.first_name/)
  t.match(text, /v2\.sql:\d+ {2}contract drop-column: drops column people\.name: the old version still reads or writes it/)
  t.match(text, /0 error\(s\), 0 warning\(s\)$/)
})

t.test('every problem of a directory is reported at once, with file and line, exit 1', async (t) => {
  const dir = t.testdir({
    'v3.sql': 'ALTER TABLE people ADD COLUMN nick VARCHAR(20) NULL;\nGRANT SELECT ON *.* TO x;\nALTER TABLE people DROP COLUMN q;\nALTER TABLE people ADD COLUMN q INT NULL;\n',
    'v4.sql': 'ALTER TABLE people MODIFY a DECIMAL(10,2);\n',
    'x4.sql': 'SELECT 1;\n',
  })
  const output = capture()
  t.equal(await main(['migrate', 'lint', '--dir', dir], output), 1)
  const text = output.lines.join('\n')
  t.match(text, /v3\.sql:2 {2}error UNCLASSIFIABLE_STATEMENT/)
  t.match(text, /v3\.sql:4 {2}contract add-column: .*runs in the contract, after the contract statement at .*v3\.sql:3/)
  t.match(text, /v4\.sql:1 \(modify-column\): this contract change has no undo handover can derive .*: no automatic rollback/)
  t.match(text, /x4\.sql: a migration script is named v<version>\.sql/)
  t.match(text, /3 error\(s\)/, 'the file name, the GRANT and the MODIFY of a column lint cannot see (the split is resolved, a SELECT only reads)')
})

t.test('a marked script whose expand part has no expand-undo part is an error, as plan and upgrade treat it', async (t) => {
  const dir = t.testdir({ 'v3.sql': '-- handover:expand\nALTER TABLE people ADD COLUMN nick VARCHAR(20) NULL;\n' })
  const output = capture()
  t.equal(await main(['migrate', 'lint', '--dir', dir], output), 1)
  const text = output.lines.join('\n')
  t.match(text, /v3\.sql: expand statements but no `-- handover:expand-undo` part: no automatic rollback \(give each expand or contract part its -undo part\)/)
  t.match(text, /1 error\(s\)/)
})
