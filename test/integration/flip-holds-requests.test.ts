/**
 * Requests that arrive during the flip are held by the proxy, then answered by v2: not
 * refused, not answered by v1. The contract is made slow (a SLEEP in a copy of the demo's
 * v2 script) so the test can send requests while the buffer is certainly in use.
 */
import t from 'tap'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { DEMO_IMAGES, ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { runHandover } from '../../scripts/lib/handover-process.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { createTestService, demoMigrationsWith, removeLeftovers } from '../../scripts/lib/throwaway-service.js'
import { waitUntil } from '../../scripts/lib/wait-until.js'

const HELD_REQUESTS = 10

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-flip')
})

interface Answer {
  status: number
  servedBy: string | null
  body: string
}

async function send(url: string, init?: RequestInit): Promise<Answer> {
  const response = await fetch(url, init)
  return { status: response.status, servedBy: response.headers.get('x-served-by'), body: await response.text() }
}

t.test('requests sent during the flip wait in the buffer and are answered by v2', async (t) => {
  const scratch = t.testdir({})
  const svc = await createTestService('it-flip', {
    migrationsDir: demoMigrationsWith(scratch, (v2) => v2.replace('-- handover:contract\n', '-- handover:contract\nSELECT SLEEP(3);\n')),
  })
  t.teardown(svc.cleanup)
  const deploy = await runHandover(['deploy', '--config', svc.configFile, '--image', DEMO_IMAGES['1']])
  t.equal(deploy.code, 0, 'deployed v1', { output: deploy.stdout + deploy.stderr })

  const admin = new AdminClient(join(svc.dir, 'agent.sock'))
  const upgrade = runHandover(['upgrade', '--config', svc.configFile, '--image', DEMO_IMAGES['2']])
  await waitUntil(async () => (await admin.getService(svc.name)).slots.green.state === 'buffering', 60_000, 'green to buffer')

  let answered = 0
  const requests = Array.from({ length: HELD_REQUESTS }, (_, i) => {
    const request =
      i % 2 === 0
        ? send(`${svc.proxyUrl}/version`)
        : send(`${svc.proxyUrl}/people`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `Held${i} Person${i}` }) })
    return request.finally(() => answered++)
  })
  await waitUntil(async () => (await admin.getService(svc.name)).buffered === HELD_REQUESTS, 10_000, 'all requests held')
  t.equal(answered, 0, 'no request is answered while the buffer holds it')
  t.equal((await admin.getService(svc.name)).slots.green.state, 'buffering', 'still flipping when the requests were held')

  const result = await upgrade
  t.equal(result.code, 0, 'upgrade succeeds', { output: result.stdout + result.stderr })
  const answers = await Promise.all(requests)
  t.same(answers.map((a) => a.servedBy), Array(HELD_REQUESTS).fill('green/2'), 'every held request was answered by v2 on green')
  t.same(answers.map((a) => a.status), answers.map((_, i) => (i % 2 === 0 ? 200 : 201)), 'none refused')

  const metrics = await (await fetch(svc.agent.metricsUrl)).text()
  const longest = new RegExp(`handover_proxy_buffer_release_longest_wait_seconds\\{service="${svc.name}"\\} ([0-9.e-]+)`).exec(metrics)
  t.ok(longest && Number(longest[1]) > 0, 'the longest buffer wait of the release is exported')

  const ids = answers.filter((_, i) => i % 2 === 1).map((a) => Number((JSON.parse(a.body) as { id: number }).id))
  const [rows] = await svc.db.query<RowDataPacket[]>(`SELECT id, first_name, last_name FROM \`${svc.schema}\`.people WHERE id IN (?) ORDER BY id`, [ids])
  t.same(
    rows.map((row) => `${row.first_name} ${row.last_name}`).sort(),
    answers.flatMap((_, i) => (i % 2 === 1 ? [`Held${i} Person${i}`] : [])).sort(),
    'the held writes landed in the new shape',
  )
})
