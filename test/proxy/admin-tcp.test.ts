import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { InvalidInputError } from '../../src/errors.js'
import { AdminToken, loadAdminToken } from '../../src/proxy/admin/admin-auth.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { route, startTestAgent } from './fixtures/agent.js'
import { refusal } from './fixtures/refusal.js'
import { startUpstreams } from './fixtures/upstream.js'

const TOKEN = 'a-long-admin-token-0123456789'

t.test('on TCP the admin API serves a client with the token and refuses every other', async (t) => {
  const { blue, green } = await startUpstreams(t)
  const test = await startTestAgent(t, { adminTcp: { host: '127.0.0.1', port: 0, token: new AdminToken(TOKEN, 'test') } })
  const port = test.agent.adminTcpPort!
  t.ok(port > 0, 'the TCP listener is bound')
  const good = AdminClient.overTcp({ host: '127.0.0.1', port, token: TOKEN })
  await good.health()
  const status = await good.putService(route('shop', { blue: blue.port, green: green.port }))
  t.equal(status.name, 'shop', 'the same endpoints as on the socket')

  // The case-flipped token: a comparison that folds case (or lower-cases "for robustness") lets it in.
  for (const token of ['wrong', TOKEN.slice(0, -1) + 'X', TOKEN + 'extra', '', TOKEN.toUpperCase(), TOKEN[0]!.toUpperCase() + TOKEN.slice(1)]) {
    const error = await refusal(AdminClient.overTcp({ host: '127.0.0.1', port, token }).listServices())
    t.same([error.status, error.agentCode], [401, 'UNAUTHORIZED'], `refused: token of length ${token.length}`)
    t.notMatch(error.message, TOKEN, 'the error never carries the token')
  }
  const bare = await fetch(`http://127.0.0.1:${port}/v1/services`)
  t.equal(bare.status, 401, 'no Authorization header: 401')
  t.notMatch(JSON.stringify(test.logs), TOKEN, 'nothing logged carries the token')
  t.notMatch(JSON.stringify(new AdminToken(TOKEN, 'x')), TOKEN, 'nor does serializing it')
})

t.test('the token comes from a file or the environment, never argv; a weak or missing one is refused by name', async (t) => {
  const dir = t.testdir({})
  const file = join(dir, 'token')
  writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 })
  t.ok((await loadAdminToken(file, {})).allows({ authorization: `Bearer ${TOKEN}` }), 'a trailing newline in the file is not part of the token')
  t.ok((await loadAdminToken(undefined, { HANDOVER_ADMIN_TOKEN: TOKEN })).allows({ authorization: `Bearer ${TOKEN}` }))
  t.notOk(new AdminToken(TOKEN, 'x').allows({ authorization: `Bearer ${TOKEN.toUpperCase()}` }), 'the token is compared exactly, case included')
  t.notOk((await loadAdminToken(undefined, { HANDOVER_ADMIN_TOKEN: TOKEN })).allows({ authorization: TOKEN }), 'only as a Bearer token')
  await t.rejects(loadAdminToken(undefined, {}), { code: 'INVALID_INPUT', message: /--admin-listen: .*HANDOVER_ADMIN_TOKEN/ })
  await t.rejects(loadAdminToken(join(dir, 'missing'), {}), { code: 'INVALID_INPUT', message: /--admin-token-file: cannot read .*ENOENT/ })
  const short = await loadAdminToken(undefined, { HANDOVER_ADMIN_TOKEN: 'short-secret' }).catch((e: unknown) => e)
  t.ok(short instanceof InvalidInputError)
  t.match((short as Error).message, /^HANDOVER_ADMIN_TOKEN: the admin token must be at least 16 characters/)
  t.notMatch((short as Error).message, 'short-secret', 'the refused value is not echoed')
})
