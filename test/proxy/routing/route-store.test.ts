import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { StateFileError } from '../../../src/proxy/errors.js'
import { RouteStore } from '../../../src/proxy/routing/route-store.js'
import { route, startShop } from '../fixtures/agent.js'
import { send } from '../fixtures/http-client.js'

function scratch(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'hov-store-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('saves and loads routes; no temp file is left behind', async (t) => {
  const dir = scratch(t)
  const store = new RouteStore(join(dir, 'deep', 'routes.json'))
  t.same(await store.load(), [], 'no file yet: no routes')
  const routes = [route('shop', { blue: 9001, green: 9002 }, { blue: 'active', green: 'buffering' })]
  await Promise.all([store.save([]), store.save(routes)])
  t.same(await store.load(), routes, 'the last save wins')
  t.same(readdirSync(join(dir, 'deep')), ['routes.json'])
})

t.test('a state file written before buffer.maxBytes, health and drainTimeoutSeconds existed still loads', async (t) => {
  const dir = scratch(t)
  const path = join(dir, 'routes.json')
  const old = { name: 'shop', listen: { host: '127.0.0.1', port: 8080 }, slots: route('x', { blue: 1, green: 2 }).slots, buffer: { maxRequests: 5, maxWaitSeconds: 9 } }
  writeFileSync(path, JSON.stringify({ version: 1, services: [old] }))
  const [loaded] = await new RouteStore(path).load()
  t.same(loaded, { ...old, buffer: { ...old.buffer, maxBytes: 64 * 1024 * 1024 }, drainTimeoutSeconds: 30 })
})

t.test('a damaged file stops the load with the file named', async (t) => {
  const dir = scratch(t)
  const path = join(dir, 'routes.json')
  writeFileSync(path, '{"version":1,"services":[{"name":"shop"')
  await t.rejects(new RouteStore(path).load(), { code: 'STATE_FILE_INVALID', message: new RegExp(`${path}: not valid JSON`) })
  writeFileSync(path, JSON.stringify({ version: 1, services: [{ name: 'shop' }] }))
  const error = await new RouteStore(path).load().catch((e: unknown) => e)
  t.ok(error instanceof StateFileError)
  t.match((error as Error).message, /file\.services\[0\]\.listen: must be a JSON object/)
})

t.test('a restarted agent restores its routes and serves on the same port', async (t) => {
  const test = await startShop(t, { blue: 'disabled', green: 'active' }, {}, { trustedForwarders: ['10.0.0.0/8'] })
  const { listen } = await test.client.getService('shop')
  t.equal(readFileSync(test.stateFile, 'utf8').includes(`"port": ${listen.port}`), true, 'the bound port is saved')
  await test.restart()
  const restored = await test.client.getService('shop')
  t.same([restored.listen, restored.slots.blue.state, restored.slots.green.state], [listen, 'disabled', 'active'])
  t.same(restored.trustedForwarders, ['10.0.0.0/8'], 'with its trusted forwarders')
  t.equal((await send(listen.port).reply).headers['x-served-by'], 'green')
})
