/**
 * The admin API keeps its token secret on every path a probe found open: a token put in a
 * URL is not logged, a token file others can read is refused, a plain-TCP listener on a
 * network address is refused unless asked for (TLS is offered instead), and the unix socket
 * is 0600 from the moment it is bound.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import http from 'node:http'
import { join } from 'node:path'
import t from 'tap'
import { startTcpAdminApi } from '../../src/proxy/admin/admin-api.js'
import { AdminToken, loadAdminToken } from '../../src/proxy/admin/admin-auth.js'
import { AdminClient } from '../../src/protocol/admin-client.js'
import { bindPrivately } from '../../src/proxy/upstream/listener.js'
import { startTestAgent } from './fixtures/agent.js'

const TOKEN = 'a-long-admin-token-0123456789'

t.test('a refused request is logged with its path, never its query string', async (t) => {
  const test = await startTestAgent(t, { adminTcp: { host: '127.0.0.1', port: 0, token: new AdminToken(TOKEN, 'test') } })
  const response = await fetch(`http://127.0.0.1:${test.agent.adminTcpPort}/v1/services?token=${TOKEN}&x=1`)
  t.equal(response.status, 401)
  const refused = test.logs.find((line) => (line as { msg?: string }).msg === 'admin request without a valid token refused') as Record<string, unknown> | undefined
  t.equal(refused?.path, '/v1/services', 'the path is logged')
  t.notMatch(JSON.stringify(test.logs), TOKEN, 'the token in the query string is in no log line')
  t.notMatch(JSON.stringify(test.logs), 'x=1', 'nor is the rest of the query')
})

t.test('a token file that group or others may read is refused; mode 0600 or 0400 is accepted', async (t) => {
  const dir = t.testdir({})
  for (const mode of [0o644, 0o640, 0o604, 0o660]) {
    const file = join(dir, `token-${mode.toString(8)}`)
    writeFileSync(file, TOKEN)
    chmodSync(file, mode)
    await t.rejects(loadAdminToken(file, {}), { code: 'INVALID_INPUT', message: new RegExp(`--admin-token-file: .* has mode 0${mode.toString(8)}: group or others may read it; chmod 600`) }, `mode ${mode.toString(8)}`)
  }
  for (const mode of [0o600, 0o400]) {
    const file = join(dir, `ok-${mode.toString(8)}`)
    writeFileSync(file, TOKEN)
    chmodSync(file, mode)
    t.ok((await loadAdminToken(file, {})).allows({ authorization: `Bearer ${TOKEN}` }), `mode ${mode.toString(8)} is accepted`)
  }
})

t.test('a TCP listener on an address other than loopback needs TLS or an explicit insecure flag', async (t) => {
  const log = (): void => undefined
  const token = new AdminToken(TOKEN, 'test')
  // Refused before any bind: no socket is opened on the network address.
  for (const host of ['0.0.0.0', '192.0.2.10', '::', 'admin.example']) {
    await t.rejects(startTcpAdminApi(host, 0, token, [], log), { code: 'ADMIN_LISTENER_INSECURE', message: /--admin-tls-cert and --admin-tls-key.*--admin-insecure-tcp/ }, host)
  }
  for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) {
    const api = await startTcpAdminApi(host, 0, token, [], log).catch((error: NodeJS.ErrnoException) => error)
    // ::1 may be absent on this machine: then the bind fails, but not for want of TLS.
    t.not((api as { code?: string }).code, 'ADMIN_LISTENER_INSECURE', `${host} is loopback: plain HTTP is allowed`)
    if ('close' in api) await api.close()
  }
})

t.test('with --admin-tls-cert/--admin-tls-key the listener speaks HTTPS, and a client with the CA gets through', async (t) => {
  const dir = t.testdir({})
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' })
  const tls = { cert: readFileSync(cert), key: readFileSync(key) }
  const test = await startTestAgent(t, { adminTcp: { host: '127.0.0.1', port: 0, token: new AdminToken(TOKEN, 'test'), transport: { tls } } })
  const port = test.agent.adminTcpPort!
  await AdminClient.overTcp({ host: '127.0.0.1', port, token: TOKEN, ca: tls.cert }).health()
  t.pass('the client with the CA and the token is served over HTTPS')
  const plain = await new Promise<string>((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/v1/health', headers: { authorization: `Bearer ${TOKEN}` } }, (response) => resolve(`status ${response.statusCode}`))
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
    request.setTimeout(3000, () => request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })))
  })
  t.notMatch(plain, /^status 2/, `plain HTTP is not served (${plain})`)
})

t.test('the admin socket is 0600 from its bind, under a umask that would make it world-writable', async (t) => {
  // A short path: a unix socket's is limited to about 100 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'hov-'))
  const path = join(dir, 'admin.sock')
  const server = http.createServer()
  const previous = process.umask(0)
  t.teardown(() => {
    process.umask(previous)
    server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const bound = bindPrivately(server, path)
  // Read before anything else can run: listen binds a path synchronously, and no chmod has happened.
  const mode = statSync(path).mode & 0o777
  await bound
  t.equal(mode.toString(8), '600', 'the socket file is created 0600, not 0777')
  t.equal(process.umask(0), 0, 'the process umask is restored after the bind')
})

t.test('handover agent: the TLS and insecure flags are checked before anything listens', async (t) => {
  const { agentCommand } = await import('../../src/cli/commands/agent-command.js')
  const dir = mkdtempSync(join(tmpdir(), 'hov-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const tokenFile = join(dir, 'token')
  writeFileSync(tokenFile, TOKEN)
  chmodSync(tokenFile, 0o600)
  const output = { out: (): void => undefined, err: (): void => undefined }
  const base = ['--socket', join(dir, 'a.sock'), '--state-file', join(dir, 'routes.json'), '--metrics', '127.0.0.1:1']
  await t.rejects(agentCommand.run([...base, '--admin-listen', '0.0.0.0:9', '--admin-token-file', tokenFile], output), { code: 'ADMIN_LISTENER_INSECURE' }, 'plain TCP on 0.0.0.0 is refused')
  t.notOk(existsSync(join(dir, 'a.sock')), 'before even the admin socket was created')
  await t.rejects(agentCommand.run([...base, '--admin-listen', '0.0.0.0:9', '--admin-token-file', tokenFile, '--admin-tls-cert', tokenFile], output), { code: 'INVALID_INPUT', message: /--admin-tls-key: TLS needs both/ }, 'a certificate without its key is refused')
  await t.rejects(agentCommand.run([...base, '--admin-insecure-tcp'], output), { code: 'INVALID_INPUT', message: /only make sense with --admin-listen/ }, 'the flag alone is refused')
  chmodSync(tokenFile, 0o644)
  await t.rejects(agentCommand.run([...base, '--admin-listen', '127.0.0.1:9', '--admin-token-file', tokenFile], output), { code: 'INVALID_INPUT', message: /group or others may read it/ }, 'a token file others can read is refused')
})
