/** The rehearsal's algorithms kept with a run, on the real MariaDB: what a resume reads back is what the preflight saved. */
import t from 'tap'
import { RunAlgorithmTable } from '../../../src/db/journal/run-algorithms.js'
import { createTestDatabase } from '../../support/test-database.js'

t.test('saved per run, statements without an algorithm left out, a second save replaces the first', async (t) => {
  const test = await createTestDatabase('it_run_algorithms')
  t.teardown(test.cleanup)
  await test.db.query(`CREATE DATABASE \`${test.journalSchema}\``)
  await RunAlgorithmTable.ensureTable(test.db, test.journalSchema)
  const table = new RunAlgorithmTable(test.db, test.journalSchema)
  const runId = '00000000-0000-0000-0000-000000000001'
  await table.save(runId, [
    { script: 'v2.sql', part: 'expand', index: 0, algorithm: 'COPY' },
    { script: 'v2.sql', part: 'expand', index: 1 },
  ])
  await table.save(runId, [
    { script: 'v2.sql', part: 'contract', index: 1, algorithm: 'INPLACE' },
    { script: 'v2.sql', part: 'expand', index: 0, algorithm: 'INSTANT' },
    { script: 'v2.sql', part: 'expand', index: 1 },
  ])
  await table.save('00000000-0000-0000-0000-000000000002', [{ script: 'v3.sql', part: 'expand', index: 0, algorithm: 'NOCOPY' }])
  t.same(await table.load(runId), [
    { script: 'v2.sql', part: 'contract', index: 1, algorithm: 'INPLACE' },
    { script: 'v2.sql', part: 'expand', index: 0, algorithm: 'INSTANT' },
  ])
  t.same(await table.load('00000000-0000-0000-0000-000000000003'), [], 'a run without a rehearsal has none')
})
