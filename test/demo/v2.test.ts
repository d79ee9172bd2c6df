/**
 * handover-demo:2 against the real Docker engine and MariaDB: on the contracted schema
 * (first_name/last_name, no name) it keeps v1's API; on the expanded schema it runs
 * beside v1 and each reads the other's writes; and it keeps serving while the contract
 * migration drops `name` under it.
 */
import t from 'tap'
import { ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { formatReport, runLoad, startLoad, verifyRows, type WrittenRow } from '../../scripts/lib/load-generator.js'
import { composeName, splitName } from '../../deploy/demo/src/v2.js'
import { createTestDatabase, type TestDatabase } from '../support/test-database.js'
import { removeLeftoverContainers, request, startDemo, waitForStatus } from './fixtures/harness.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'
import { V1_SCHEMA, V2_CONTRACT, V2_CONTRACT_UNDO, V2_EXPAND, V2_SCHEMA } from './fixtures/schema.js'

const databases: TestDatabase[] = []

async function newDatabase(schema: string): Promise<TestDatabase> {
  const db = await createTestDatabase('handover_demo_test')
  databases.push(db)
  await db.db.query(schema)
  return db
}

t.before(async () => {
  t.comment((await ensureDemoImages()).trim())
  await removeLeftoverContainers()
})

t.teardown(async () => {
  await removeLeftoverContainers()
  for (const db of databases) await db.cleanup()
})

t.test('names split at the first space and compose back unchanged', async (t) => {
  t.same(splitName('Ada Lovelace'), { firstName: 'Ada', lastName: 'Lovelace' })
  t.same(splitName('Plato'), { firstName: 'Plato', lastName: '' })
  t.same(splitName('Ludwig van Beethoven'), { firstName: 'Ludwig', lastName: 'van Beethoven' })
  for (const name of ['Ada Lovelace', 'Plato', 'Ludwig van Beethoven', 'Two  Spaces']) {
    const { firstName, lastName } = splitName(name)
    t.equal(composeName(firstName, lastName), name)
  }
})

t.test('v2 on the contracted schema keeps the v1 API', async (t) => {
  const db = await newDatabase(V2_SCHEMA)
  // A row as the contract migration leaves it (backfilled by SQL, not written by v2).
  await db.db.query("INSERT INTO people (id, first_name, last_name) VALUES (7, 'Charles', 'Babbage')")
  const green = await startDemo({ version: '2', database: db.config, slot: 'green' })
  await waitForStatus(green, '/healthz', 200)

  t.same((await request(green.baseUrl, 'GET', '/version')).json(), { version: '2', slot: 'green' })

  const ada = await request(green.baseUrl, 'POST', '/people', { name: 'Ada Lovelace' })
  t.equal(ada.status, 201)
  t.equal(ada.headers['x-served-by'], 'green/2')
  t.match(ada.json(), { id: Number, name: 'Ada Lovelace', version: '2' })

  const grace = await request(green.baseUrl, 'POST', '/people', { first_name: 'Grace', last_name: 'Hopper' })
  t.equal(grace.status, 201)
  t.equal(grace.json().name, 'Grace Hopper', 'first_name/last_name in, composed name out')

  const plato = await request(green.baseUrl, 'POST', '/people', { name: 'Plato' })
  t.equal(plato.json().name, 'Plato', 'no space: empty last name, no trailing space')

  const [rows] = await db.db.query('SELECT first_name, last_name FROM people WHERE id IN (?, ?, ?) ORDER BY id', [
    ada.json().id,
    grace.json().id,
    plato.json().id,
  ])
  t.same(rows, [
    { first_name: 'Ada', last_name: 'Lovelace' },
    { first_name: 'Grace', last_name: 'Hopper' },
    { first_name: 'Plato', last_name: '' },
  ])

  const read = await request(green.baseUrl, 'GET', '/people/7')
  t.equal(read.status, 200)
  t.match(read.json(), { id: 7, name: 'Charles Babbage', version: '2' })
  t.equal((await request(green.baseUrl, 'GET', '/people/999999')).status, 404)
  t.equal((await request(green.baseUrl, 'POST', '/people', { first_name: '' })).status, 400)
  t.equal((await request(green.baseUrl, 'POST', '/people', { name: `${'x'.repeat(101)} Smith` })).status, 400)

  const report = await runLoad({ baseUrl: green.baseUrl, concurrency: 8, maxDurationMs: 3_000, maxRequests: 1_000, postRatio: 0.5 })
  t.comment(formatReport(report))
  t.equal(report.failed, 0, 'no request failed')
  t.same(report.versions, { '2': report.sent })
  const verified = await verifyRows(green.baseUrl, report.written)
  t.equal(verified.checked, report.written.length)
  t.same([verified.missing, verified.wrong, verified.errors], [[], [], []], 'every write reads back')
})

t.test('expanded schema: v1 and v2 side by side, then the contract under a running v2', async (t) => {
  const db = await newDatabase(V1_SCHEMA)
  const blue = await startDemo({ version: '1', database: db.config, slot: 'blue' })
  await waitForStatus(blue, '/healthz', 200)
  const before = await runLoad({ baseUrl: blue.baseUrl, concurrency: 4, maxDurationMs: 2_000, maxRequests: 200, postRatio: 0.8 })
  t.equal(before.failed, 0, 'v1 on the v1 schema')

  await db.db.query(V2_EXPAND)
  const green = await startDemo({ version: '2', database: db.config, slot: 'green' })
  await waitForStatus(green, '/healthz', 200)

  // Both versions write at once; each must read what the other wrote.
  const [v1Load, v2Load] = await Promise.all([
    runLoad({ baseUrl: blue.baseUrl, concurrency: 4, maxDurationMs: 2_000, maxRequests: 300, postRatio: 0.7 }),
    runLoad({ baseUrl: green.baseUrl, concurrency: 4, maxDurationMs: 2_000, maxRequests: 300, postRatio: 0.7 }),
  ])
  t.comment(`v1: ${formatReport(v1Load)}\nv2: ${formatReport(v2Load)}`)
  t.equal(v1Load.failed, 0, 'v1 on the expanded schema')
  t.equal(v2Load.failed, 0, 'v2 on the expanded schema')
  const allRows: WrittenRow[] = [...before.written, ...v1Load.written, ...v2Load.written]
  for (const [reader, url] of [['v1', blue.baseUrl], ['v2', green.baseUrl]] as const) {
    const verified = await verifyRows(url, allRows)
    t.same([verified.missing, verified.wrong, verified.errors], [[], [], []], `${reader} reads every row either version wrote`)
  }

  // v1 leaves; the contract runs while v2 takes writes (its cached "name exists" goes stale).
  await blue.container.stop({ t: 10 })
  t.equal((await blue.container.inspect()).State.ExitCode, 0)
  const during = startLoad({ baseUrl: green.baseUrl, concurrency: 4, maxDurationMs: 20_000, maxRequests: 100_000, postRatio: 0.7 })
  await waitUntil(() => during.progress().succeeded >= 100, 20_000, '100 answered requests before the contract')
  await db.db.query(V2_CONTRACT)
  const afterContract = during.progress().succeeded
  await waitUntil(() => during.progress().succeeded >= afterContract + 200, 20_000, '200 answered requests after the contract')
  const contractLoad = await during.stop()
  t.comment(`during contract: ${formatReport(contractLoad)}`)
  t.equal(contractLoad.failed, 0, 'v2 kept serving while name was dropped')
  t.match(await green.logs(), /"msg":"name-column-changed","exists":false/, 'v2 noticed the drop on a write and carried on')

  const [columns] = await db.db.query<any[]>("SHOW COLUMNS FROM people LIKE 'name'")
  t.equal(columns.length, 0, 'name is gone')
  const verified = await verifyRows(green.baseUrl, [...allRows, ...contractLoad.written])
  t.same([verified.missing, verified.wrong, verified.errors], [[], [], []], 'after the contract v2 reads every row ever written')

  // A rollback past the contract restores name NOT NULL; a v2 still running must keep writing.
  await db.db.query(V2_CONTRACT_UNDO)
  const afterUndo = await request(green.baseUrl, 'POST', '/people', { name: 'Alan Turing' })
  t.equal(afterUndo.status, 201, 'v2 writes after the contract was undone')
  const [undone] = await db.db.query('SELECT name, first_name, last_name FROM people WHERE id = ?', [afterUndo.json().id])
  t.same(undone, [{ name: 'Alan Turing', first_name: 'Alan', last_name: 'Turing' }], 'and fills name again')
  t.match(await green.logs(), /"msg":"name-column-changed","exists":true/)
})
