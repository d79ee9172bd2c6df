import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { AdminClient } from '../../../src/protocol/admin-client.js'
import { startAgent } from '../../../src/proxy/agent.js'
import { AgentUnreachableError } from '../../../src/protocol/admin-errors.js'
import { AgentAlreadyRunningError } from '../../../src/proxy/errors.js'
import { route, startShop, startTestAgent } from '../fixtures/agent.js'
import { adminRaw, waitFor } from '../fixtures/http-client.js'
import { refusal } from '../fixtures/refusal.js'
import { startUpstreams } from '../fixtures/upstream.js'

t.test('the socket is private to the agent user', async (t) => {
  const { socketPath, client } = await startTestAgent(t)
  t.equal(statSync(socketPath).mode & 0o777, 0o600)
  await client.health()
})

t.test('a bad body is refused with 400 naming the field', async (t) => {
  const { socketPath, client } = await startTestAgent(t)
  const body = route('shop', { blue: 70000, green: 9002 })
  const raw = await adminRaw(socketPath, 'PUT', '/v1/services/shop', JSON.stringify({ ...body, name: undefined }))
  t.equal(raw.status, 400)
  t.same(raw.json, { error: { code: 'INVALID_INPUT', message: 'body.slots.blue.port: must be an integer 1-65535' } })

  const typed = await refusal(client.putService(body))
  t.same([typed.status, typed.agentCode], [400, 'INVALID_INPUT'])
  t.match(typed.message, /body\.slots\.blue\.port/)

  t.match(await adminRaw(socketPath, 'PUT', '/v1/services/shop', '{"listen": '), { status: 400, json: { error: { message: /^body: not valid JSON/ } } })
  t.match(await adminRaw(socketPath, 'POST', '/v1/services/shop/flip', '{"to":"red"}'), { status: 400, json: { error: { message: /^body\.to: must be one of: blue, green/ } } })
  t.match(await adminRaw(socketPath, 'POST', '/v1/events', '{"type":"phase-started","service":"shop","runId":"r1"}'), {
    status: 400,
    json: { error: { message: /^body\.phase:/ } },
  })
  t.match(await adminRaw(socketPath, 'GET', '/v2/things'), { status: 404, json: { error: { code: 'NO_SUCH_ENDPOINT' } } })
})

t.test('an unknown service is 404', async (t) => {
  const { client } = await startTestAgent(t)
  const error = await refusal(client.getService('nope'))
  t.same([error.status, error.agentCode], [404, 'SERVICE_NOT_FOUND'])
  t.same((await refusal(client.flip('nope', 'green'))).agentCode, 'SERVICE_NOT_FOUND')
})

t.test('an illegal transition is 409 and changes nothing', async (t) => {
  const { client } = await startShop(t)
  const error = await refusal(client.setSlotState('shop', 'blue', 'buffering'))
  t.same([error.status, error.agentCode], [409, 'ILLEGAL_TRANSITION'])
  t.match(error.agentMessage, /slot blue: cannot go from active to buffering/)
  t.same((await refusal(client.flip('shop', 'green'))).agentCode, 'ILLEGAL_TRANSITION', 'flip to an active slot is refused')
  const after = await client.getService('shop')
  t.same([after.slots.blue.state, after.slots.green.state], ['active', 'active'])
})

t.test('list, replace and delete services', async (t) => {
  const { blue, green } = await startUpstreams(t)
  const { client } = await startTestAgent(t)
  const first = await client.putService(route('shop', { blue: blue.port, green: green.port }))
  await client.putService(route('cart', { blue: blue.port, green: green.port }))
  t.same((await client.listServices()).map((s) => s.name).sort(), ['cart', 'shop'])
  const replaced = await client.putService({ ...route('shop', { blue: blue.port, green: green.port }), listen: first.listen, buffer: { maxRequests: 7, maxWaitSeconds: 3 } })
  t.same([replaced.listen, replaced.buffer], [first.listen, { maxRequests: 7, maxWaitSeconds: 3, maxBytes: 64 * 1024 * 1024 }], 'maxBytes defaults when omitted')
  await client.deleteService('cart')
  t.same((await client.listServices()).map((s) => s.name), ['shop'])
})

t.test('the client names the socket when no agent answers', async (t) => {
  const client = new AdminClient('/tmp/handover-no-such-dir/agent.sock')
  const error = await client.health().then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(error instanceof AgentUnreachableError)
  t.match((error as Error).message, /\/tmp\/handover-no-such-dir\/agent\.sock.*is `handover agent` running\?/)
})

t.test('a second agent on the same socket refuses to start; a stale socket file is replaced', async (t) => {
  const first = await startTestAgent(t)
  const second = startAgent({ socketPath: first.socketPath, stateFile: join(first.dir, 'other.json'), metrics: { host: '127.0.0.1', port: 0 }, log: () => {} })
  await t.rejects(second, AgentAlreadyRunningError)
  await first.client.health()

  // A socket file left by a killed process: bound, never unlinked, nobody listening.
  const stalePath = join(first.dir, 'stale.sock')
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stalePath)}, () => console.log('up'))`])
  await once(child.stdout, 'data')
  child.kill('SIGKILL')
  await once(child, 'exit')
  t.ok(statSync(stalePath).isSocket(), 'the stale socket file exists')
  const agent = await startAgent({ socketPath: stalePath, stateFile: join(first.dir, 'stale.json'), metrics: { host: '127.0.0.1', port: 0 }, log: () => {} })
  t.teardown(() => agent.close())
  await waitFor(async () => (await new AdminClient(stalePath).health(), true), 'the new agent to answer')
  t.equal(statSync(stalePath).mode & 0o777, 0o600, 'the stale file was replaced by the new agent\'s private socket')
  t.same(await new AdminClient(stalePath).listServices(), [], 'which serves the admin API')
})
