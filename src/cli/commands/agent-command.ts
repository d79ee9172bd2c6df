import { parseHostPort } from '../../config/load-config.js'
import { InvalidInputError } from '../../errors.js'
import { ADMIN_TOKEN_ENV, loadAdminToken } from '../../proxy/admin-auth.js'
import { startAgent } from '../../proxy/agent.js'
import { parseOptions, type Command } from '../command.js'

export const agentCommand: Command = {
  usage: `handover agent [--socket PATH] [--state-file PATH] [--metrics HOST:PORT] [--admin-listen HOST:PORT [--admin-token-file PATH]]

  --socket PATH            admin API unix socket, mode 0600 (default /run/handover/agent.sock)
  --state-file PATH        route table, restored on start (default /var/lib/handover/routes.json)
  --metrics HOST:PORT      where Prometheus scrapes /metrics (default 127.0.0.1:9464)
  --admin-listen HOST:PORT also serve the admin API on TCP; every request needs
                           "Authorization: Bearer <token>"
  --admin-token-file PATH  the token for --admin-listen (else \$${ADMIN_TOKEN_ENV}); never pass it in argv

Logs one JSON object per line (time, level, msg; runId on lines of an upgrade in progress).
Stops on SIGTERM or SIGINT: held requests are answered 503 with Retry-After, never dropped.`,
  async run(args, output) {
    const values = parseOptions('agent', args, {
      socket: { type: 'string', default: '/run/handover/agent.sock' },
      'state-file': { type: 'string', default: '/var/lib/handover/routes.json' },
      metrics: { type: 'string', default: '127.0.0.1:9464' },
      'admin-listen': { type: 'string' },
      'admin-token-file': { type: 'string' },
    })
    const metrics = parseHostPort(values.metrics)
    if (!metrics) throw new InvalidInputError('--metrics', 'must be host:port, e.g. 127.0.0.1:9464')
    const adminTcp = await adminListener(values['admin-listen'], values['admin-token-file'])
    const agent = await startAgent({ socketPath: values.socket, stateFile: values['state-file'], metrics, ...(adminTcp === undefined ? {} : { adminTcp }) })
    // Like every agent line, JSON: stdout and stderr end up in one journal under systemd.
    const tcp = adminTcp === undefined ? {} : { adminTcp: `${adminTcp.host}:${agent.adminTcpPort}` }
    output.out(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'handover agent ready', admin: agent.socketPath, ...tcp, metrics: `http://${metrics.host}:${agent.metricsPort}/metrics` }))
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGTERM', stop)
        process.off('SIGINT', stop)
        agent.close().then(resolve, resolve)
      }
      process.on('SIGTERM', stop)
      process.on('SIGINT', stop)
    })
    return 0
  },
}

async function adminListener(listen: string | undefined, tokenFile: string | undefined) {
  if (listen === undefined) {
    if (tokenFile !== undefined) throw new InvalidInputError('--admin-token-file', 'only makes sense with --admin-listen')
    return undefined
  }
  const address = parseHostPort(listen)
  if (!address) throw new InvalidInputError('--admin-listen', 'must be host:port, e.g. 127.0.0.1:9465')
  return { ...address, token: await loadAdminToken(tokenFile) }
}
