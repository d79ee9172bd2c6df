import { loadConfig } from '../../config/load-config.js'
import { AdminClient } from '../../protocol/admin-client.js'
import { deployService } from '../../upgrade/slots/deploy-service.js'
import { parseOptions, requireOption, type Command } from '../command.js'

export const deployCommand: Command = {
  usage: `handover deploy --config FILE --image IMAGE [--version V]

  --config FILE     the service's handover.yaml
  --image IMAGE     the image both slots run (present on this host)
  --version V       default: the image's org.opencontainers.image.version label`,
  async run(args, output) {
    const values = parseOptions('deploy', args, {
      config: { type: 'string' },
      image: { type: 'string' },
      version: { type: 'string' },
    })
    const config = loadConfig(requireOption('deploy', 'config', values.config))
    const image = requireOption('deploy', 'image', values.image)
    const began = performance.now()
    const { version } = await deployService({
      config,
      image,
      ...(values.version ? { version: values.version } : {}),
      proxy: new AdminClient(config.agent.socket),
      note: (message) => output.out(`  ${message}`),
    })
    output.out(`deployed ${config.service.name} ${image} (version ${version}) in ${((performance.now() - began) / 1000).toFixed(2)}s`)
    return 0
  },
}
