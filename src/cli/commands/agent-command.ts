import { parseHostPort } from '../../config/load-config.js'
import { InvalidInputError } from '../../errors.js'
import { startAgent } from '../../proxy/agent.js'
import { parseOptions, type Command } from '../command.js'

export const agentCommand: Command = {
  name: 'agent',
  summary: 'run the proxy, its admin API and /metrics (long-running, one per Docker host)',
  usage: `handover agent [--socket PATH] [--state-file PATH] [--metrics HOST:PORT]

  --socket PATH       admin API unix socket, mode 0600 (default /run/handover/agent.sock)
  --state-file PATH   route table, restored on start (default /var/lib/handover/routes.json)
  --metrics HOST:PORT where Prometheus scrapes /metrics (default 127.0.0.1:9464)

Stops on SIGTERM or SIGINT: held requests are answered 503 with Retry-After, never dropped.`,
  async run(args, output) {
    const values = parseOptions('agent', args, {
      socket: { type: 'string', default: '/run/handover/agent.sock' },
      'state-file': { type: 'string', default: '/var/lib/handover/routes.json' },
      metrics: { type: 'string', default: '127.0.0.1:9464' },
    })
    const metrics = parseHostPort(values.metrics)
    if (!metrics) throw new InvalidInputError('--metrics', 'must be host:port, e.g. 127.0.0.1:9464')
    const agent = await startAgent({ socketPath: values.socket, stateFile: values['state-file'], metrics })
    output.out(`handover agent: admin ${agent.socketPath}, metrics http://${metrics.host}:${agent.metricsPort}/metrics`)
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
