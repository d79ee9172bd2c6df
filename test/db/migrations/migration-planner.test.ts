import t from 'tap'
import { fileURLToPath } from 'node:url'
import { NoMigrationChainError, planChain } from '../../../src/db/migrations/versions/migration-planner.js'
import { readScripts } from '../../../src/db/migrations/scripts/migration-script.js'
import { parseVersion } from '../../../src/db/migrations/versions/version.js'

/**
 * Singles 1, 2, 2.1, 2.8.1, 2.9, 3.0, 3.1, 3.2.1, 5.9.1, 5.10.0 and bundles 2→2.9,
 * 2.8.1→3.2.1, 4.0→5.9.1. Nothing reaches 4.0: a gap between 3.2.1 and 5.9.1.
 */
const fixtures = readScripts(fileURLToPath(new URL('../../fixtures/planner', import.meta.url)))
const v = (text: string) => parseVersion(text, 'test')
const names = (from: string, to: string) => planChain(fixtures, v(from), v(to)).map((step) => step.script.name)

t.test('singles alone when no bundle helps', async (t) => {
  t.same(names('0', '2'), ['v1.sql', 'v2.sql'])
  t.same(names('2.9', '3.1'), ['v3.0.sql', 'v3.1.sql'])
})

t.test('the fewest scripts: bundles where they shorten the chain', async (t) => {
  t.same(names('2', '3.1'), ['v2-v2.9.sql', 'v3.0.sql', 'v3.1.sql'], 'the bundle 2→2.9 saves two scripts')
  t.same(names('2', '3.2.1'), ['v2.1.sql', 'v2.8.1.sql', 'v2.8.1-v3.2.1.sql'], 'three scripts instead of 2→2.9 and three singles')
  t.same(names('2.1', '3.2.1'), ['v2.8.1.sql', 'v2.8.1-v3.2.1.sql'], 'single to 2.8.1, then the bundle: 2 instead of 5')
  t.same(names('2.8.1', '3.2.1'), ['v2.8.1-v3.2.1.sql'])
})

t.test('no step passes the target, even if a bundle would be shorter', async (t) => {
  t.same(names('2.8.1', '3.1'), ['v2.9.sql', 'v3.0.sql', 'v3.1.sql'])
})

t.test('a plan says which singles a bundle stands in for', async (t) => {
  const plan = planChain(fixtures, v('2.8.1'), v('3.2.1'))
  t.same(plan[0]!.replaces.map((s) => s.name), ['v2.9.sql', 'v3.0.sql', 'v3.1.sql', 'v3.2.1.sql'])
  t.same([plan[0]!.from, plan[0]!.to], [[2, 8, 1], [3, 2, 1]])
})

t.test('at or past the target: nothing to run', async (t) => {
  t.same(names('3.1', '3.1'), [])
  t.same(names('3.2.1', '3.1'), [])
})

t.test('a gap is named', async (t) => {
  const error = t.throws(() => planChain(fixtures, v('3.1'), v('5.10.0'))) as NoMigrationChainError
  t.type(error, NoMigrationChainError)
  t.equal(error.code, 'NO_MIGRATION_CHAIN')
  t.equal(error.reachedUpTo, '3.2.1')
  t.equal(error.missingTo, '4.0', 'the next version something starts from is 4.0')
  t.match(error.message, /nothing covers 3\.2\.1 → 4\.0/)
})

t.test('a current version no script names is a release without schema changes', async (t) => {
  t.same(names('2.5', '3.0'), ['v2.8.1.sql', 'v2.9.sql', 'v3.0.sql'], 'v2.8.1 applies from 2.5 as it would from 2.1')
})

t.test('a release named only by a bundle and reached by nothing is a gap, whatever the current version', async (t) => {
  const error = t.throws(() => planChain(fixtures, v('3.2.1'), v('5.9.1'))) as NoMigrationChainError
  t.equal(error.reachedUpTo, '3.2.1')
  t.equal(error.missingTo, '4.0')
})

t.test('a target no script names changed nothing in the schema: the chain ends at the last release below it', async (t) => {
  t.same(names('1', '2.5'), ['v2.sql', 'v2.1.sql'])
  t.same(names('2.1', '2.5'), [], 'an application-only release needs no script')
  const error = t.throws(() => planChain(fixtures, v('3.2.1'), v('5.0'))) as NoMigrationChainError
  t.match(error.message, /nothing covers 3\.2\.1 → 4\.0/, 'a release a bundle names below the target must still be reached')
})
