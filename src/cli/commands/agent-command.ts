import { readFile } from 'node:fs/promises'
import { parseHostPort } from '../../config/load-config.js'
import { InvalidInputError } from '../../errors.js'
import { ADMIN_TOKEN_ENV, loadAdminToken } from '../../proxy/admin/admin-auth.js'
import { startAgent } from '../../proxy/agent.js'
import { parseOptions, type Command } from '../command.js'

export const agentCommand: Command = {
  usage: `handover agent [--socket PATH] [--state-file PATH] [--metrics HOST:PORT] [--admin-listen HOST:PORT [--admin-token-file PATH]
                      [--admin-tls-cert PATH --admin-tls-key PATH | --admin-insecure-tcp]]

  --socket PATH            admin API unix socket, mode 0600 (default /run/handover/agent.sock)
  --state-file PATH        route table, restored on start (default /var/lib/handover/routes.json)
  --metrics HOST:PORT      where Prometheus scrapes /metrics (default 127.0.0.1:9464)
  --admin-listen HOST:PORT also serve the admin API on TCP; every request needs
                           "Authorization: Bearer <token>"
  --admin-token-file PATH  the token for --admin-listen (else \$${ADMIN_TOKEN_ENV}); never pass it in argv;
                           refused when group or others may read it (chmod 600)
  --admin-tls-cert PATH    serve --admin-listen over HTTPS with this certificate (PEM) ...
  --admin-tls-key PATH     ... and this key (PEM); required on an address other than loopback
  --admin-insecure-tcp     allow plain HTTP on an address other than loopback (the token then
                           crosses the network in clear text)

Logs one JSON object per line (time, level, msg; runId on lines of an upgrade in progress).
Stops on SIGTERM or SIGINT: held requests are answered 503 with Retry-After, never dropped.`,
  async run(args, output) {
    const values = parseOptions('agent', args, {
      socket: { type: 'string', default: '/run/handover/agent.sock' },
      'state-file': { type: 'string', default: '/var/lib/handover/routes.json' },
      metrics: { type: 'string', default: '127.0.0.1:9464' },
      'admin-listen': { type: 'string' },
      'admin-token-file': { type: 'string' },
      'admin-tls-cert': { type: 'string' },
      'admin-tls-key': { type: 'string' },
      'admin-insecure-tcp': { type: 'boolean', default: false },
    })
    const metrics = parseHostPort(values.metrics)
    if (!metrics) throw new InvalidInputError('--metrics', 'must be host:port, e.g. 127.0.0.1:9464')
    const adminTcp = await adminListener(values['admin-listen'], values['admin-token-file'], {
      cert: values['admin-tls-cert'],
      key: values['admin-tls-key'],
      insecure: values['admin-insecure-tcp'] === true,
    })
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

interface TransportFlags {
  cert: string | undefined
  key: string | undefined
  insecure: boolean
}

async function adminListener(listen: string | undefined, tokenFile: string | undefined, flags: TransportFlags) {
  if (listen === undefined) {
    if (tokenFile !== undefined) throw new InvalidInputError('--admin-token-file', 'only makes sense with --admin-listen')
    if (flags.cert !== undefined || flags.key !== undefined || flags.insecure) throw new InvalidInputError('--admin-tls-cert', '--admin-tls-cert, --admin-tls-key and --admin-insecure-tcp only make sense with --admin-listen')
    return undefined
  }
  const address = parseHostPort(listen)
  if (!address) throw new InvalidInputError('--admin-listen', 'must be host:port, e.g. 127.0.0.1:9465')
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new InvalidInputError(flags.cert === undefined ? '--admin-tls-cert' : '--admin-tls-key', 'TLS needs both --admin-tls-cert and --admin-tls-key')
  const tls = flags.cert === undefined || flags.key === undefined ? undefined : { cert: await readPem(flags.cert, '--admin-tls-cert'), key: await readPem(flags.key, '--admin-tls-key') }
  return { ...address, token: await loadAdminToken(tokenFile), transport: { ...(tls === undefined ? {} : { tls }), insecure: flags.insecure } }
}

async function readPem(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (error) {
    throw new InvalidInputError(flag, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
  }
}
