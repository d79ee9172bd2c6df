import t from 'tap'
import { InvalidInputError } from '../../src/errors.js'
import { parseScript, readScripts } from '../../src/db/migration-script.js'

t.test('sorts statements into their parts', async (t) => {
  const script = parseScript('/m/v2.sql', 'v2.sql', '-- handover:expand\nA;\nB;\n-- handover:expand-undo\nC;\n-- handover:contract\nD;\n-- handover:contract-undo\nE;\n')
  t.same(script.version, [2])
  t.same(
    Object.fromEntries(Object.entries(script.parts).map(([part, list]) => [part, list.map((s) => s.sql)])),
    { expand: ['A', 'B'], contract: ['D'], 'expand-undo': ['C'], 'contract-undo': ['E'] },
  )
  t.match(script.checksum, /^[0-9a-f]{64}$/)
})

t.test('a statement before any marker is refused with file and line', async (t) => {
  const error = t.throws(() => parseScript('/m/v2.sql', 'v2.sql', '\nALTER TABLE x ADD y INT;\n')) as InvalidInputError
  t.type(error, InvalidInputError)
  t.equal(error.where, '/m/v2.sql:2')
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
