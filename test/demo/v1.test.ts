/**
 * handover-demo:1 against the real Docker engine and MariaDB: its endpoints, a bounded
 * load run whose writes all read back, health when the database is gone, and draining
 * an in-flight request on `docker stop`.
 */
import http from 'node:http'
import t from 'tap'
import { ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { freePort } from '../../scripts/lib/free-port.js'
import { formatReport, runLoad, verifyRows } from '../../scripts/lib/load-generator.js'
import { createTestDatabase, type TestDatabase } from '../support/test-database.js'
import { removeLeftoverContainers, request, startDemo, waitForStatus, type DemoContainer } from './fixtures/harness.js'
import { V1_SCHEMA } from './fixtures/schema.js'
import { serverHasRead } from './fixtures/socket-read.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'

let db: TestDatabase
let blue: DemoContainer

t.before(async () => {
  t.comment((await ensureDemoImages()).trim())
  await removeLeftoverContainers()
  db = await createTestDatabase('handover_demo_test')
  await db.db.query(V1_SCHEMA)
  blue = await startDemo({ version: '1', database: db.config, slot: 'blue' })
  await waitForStatus(blue, '/healthz', 200)
})

t.teardown(async () => {
  await removeLeftoverContainers()
  await db?.cleanup()
})

t.test('endpoints', async (t) => {
  const health = await request(blue.baseUrl, 'GET', '/healthz')
  t.equal(health.status, 200)
  t.equal(health.headers['x-served-by'], 'blue/1', 'every response says which slot and version served it')

  // A keep-alive client learns the idle timeout: 65 s, longer than a proxy's, so the proxy closes first.
  const agent = new http.Agent({ keepAlive: true })
  const keepAlive = await new Promise<http.IncomingMessage>((resolve, reject) =>
    http.get(`${blue.baseUrl}/version`, { agent }, (res) => res.resume().on('end', () => resolve(res))).on('error', reject),
  )
  agent.destroy()
  t.equal(keepAlive.headers['keep-alive'], 'timeout=65')

  t.same((await request(blue.baseUrl, 'GET', '/version')).json(), { version: '1', slot: 'blue' })

  const created = await request(blue.baseUrl, 'POST', '/people', { name: 'Ada Lovelace' })
  t.equal(created.status, 201)
  const person = created.json()
  t.match(person, { id: Number, name: 'Ada Lovelace', version: '1' })

  const read = await request(blue.baseUrl, 'GET', `/people/${person.id}`)
  t.equal(read.status, 200)
  t.same(read.json(), { id: person.id, name: 'Ada Lovelace', version: '1' })
  t.equal(read.headers['x-served-by'], 'blue/1')

  const [rows] = await db.db.query('SELECT name FROM people WHERE id = ?', [person.id])
  t.same(rows, [{ name: 'Ada Lovelace' }], 'the row is in the database')

  t.equal((await request(blue.baseUrl, 'GET', '/people/999999999')).status, 404)
  t.equal((await request(blue.baseUrl, 'POST', '/people', '{not json')).status, 400)
  t.equal((await request(blue.baseUrl, 'POST', '/people', { name: '  ' })).status, 400)
  t.equal((await request(blue.baseUrl, 'POST', '/people', { name: 'x'.repeat(201) })).status, 400)
  t.equal((await request(blue.baseUrl, 'GET', '/nowhere')).status, 404)
  t.equal((await request(blue.baseUrl, 'DELETE', '/people')).status, 405)

  const slow = await request(blue.baseUrl, 'GET', '/slow?ms=50')
  t.equal(slow.status, 200)
  t.same(slow.json(), { slept: 50 })
  t.equal((await request(blue.baseUrl, 'GET', '/slow?ms=10001')).status, 400)
})

t.test('bounded load: no failures, every write reads back', async (t) => {
  const report = await runLoad({ baseUrl: blue.baseUrl, concurrency: 8, maxDurationMs: 3_000, maxRequests: 1_500, postRatio: 0.5 })
  t.comment(formatReport(report))
  t.equal(report.failed, 0, 'no request failed')
  t.ok(report.sent > 0 && report.sent <= 1_500, 'bounded by maxRequests')
  t.equal(report.succeeded, report.sent)
  t.ok(report.written.length > 0, 'rows were written')
  t.same(report.versions, { '1': report.sent }, 'v1 served every response')
  t.ok(report.latencyMs.p50 <= report.latencyMs.p99 && report.latencyMs.p99 <= report.latencyMs.max)

  const verified = await verifyRows(blue.baseUrl, report.written)
  t.equal(verified.checked, report.written.length)
  t.same(verified.missing, [], 'no write was lost')
  t.same(verified.wrong, [], 'no row changed')
  t.same(verified.errors, [])

  const [counted] = await db.db.query<any[]>('SELECT COUNT(*) AS n FROM people WHERE id IN (?)', [report.written.map((r) => r.id)])
  t.equal(Number(counted[0].n), report.written.length, 'MariaDB holds every written row')
})

t.test('the load generator stops on request: in-flight requests finish and count', async (t) => {
  const { startLoad } = await import('../../scripts/lib/load-generator.js')
  const run = startLoad({ baseUrl: blue.baseUrl, concurrency: 4, maxDurationMs: 60_000, maxRequests: 1_000_000, postRatio: 0.3 })
  await waitUntil(() => run.progress().succeeded >= 50, 20_000, '50 answered requests')
  const report = await run.stop()
  t.equal(report.endedBy, 'stop')
  t.equal(report.failed, 0)
  t.equal(report.succeeded, report.sent, 'every request sent was answered and counted')
})

t.test('healthz is 503 while the database is unreachable', async (t) => {
  const orphan = await startDemo({ version: '1', database: db.config, slot: 'green', dbPort: await freePort() })
  await waitForStatus(orphan, '/version', 200)
  const health = await request(orphan.baseUrl, 'GET', '/healthz')
  t.equal(health.status, 503)
  t.equal(health.headers['x-served-by'], 'green/1')
  const write = await request(orphan.baseUrl, 'POST', '/people', { name: 'Nobody Home' })
  t.equal(write.status, 503, 'a write fails with 503, not a hang')
  await orphan.container.remove({ force: true })
})

t.test('docker stop drains an in-flight request, then exits 0', async (t) => {
  let clientPort: number | undefined
  const slow = new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.get(`${blue.baseUrl}/slow?ms=1500`, { agent: false, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.on('finish', () => void (clientPort = req.socket?.localPort))
  })
  // The signal must come while the request is in flight: wait until the server has read it.
  await waitUntil(() => clientPort !== undefined && serverHasRead(blue.port, clientPort), 5_000, 'the server to read the slow request')
  await blue.container.stop({ t: 10 })

  const response = await slow
  t.equal(response.status, 200, 'the in-flight request was answered')
  t.same(JSON.parse(response.body), { slept: 1500 })
  t.equal(response.headers.connection, 'close', 'a response while draining closes its connection')

  const state = (await blue.container.inspect()).State
  t.equal(state.Running, false)
  t.equal(state.ExitCode, 0, 'exited by itself with 0, not killed after the grace period (137)')
  const logs = await blue.logs()
  t.match(logs, /"msg":"shutdown-started","signal":"SIGTERM","inFlight":1/)
  t.match(logs, /"msg":"shutdown-complete"/)
})
