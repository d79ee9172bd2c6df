import { SLOT_NAMES, type SlotName } from '../../config/config.js'
import { loadConfig } from '../../config/load-config.js'
import { InvalidInputError } from '../../errors.js'
import { runUpgrade } from '../../upgrade/run/run-upgrade.js'
import { parseOptions, requireOption, type Command } from '../command.js'
import { openRunSession, reportExit } from '../run-session.js'

export const upgradeCommand: Command = {
  usage: `handover upgrade --config FILE --image IMAGE [--version V] [--standby blue|green]

  --config FILE     the service's handover.yaml
  --image IMAGE     the new image (present on this host)
  --version V       the target version; default: the image's org.opencontainers.image.version label
  --standby SLOT    the slot upgraded first (default green)

On a terminal a status line shows the running phase, its elapsed time and the requests held
in the buffer; otherwise (a pipe, CI) only plain lines, one per phase.

Exit code 0: upgraded; 1: failed and rolled back, nothing lost; 2: bad arguments or config;
3: stopped past the point of no return, or the rollback failed: an operator must act (handover status).
A service with an unfinished run (its process died) is refused (UNFINISHED_RUN): finish that
run with \`handover resume\` or undo it with \`handover abort\` first.`,
  async run(args, output) {
    const values = parseOptions('upgrade', args, {
      config: { type: 'string' },
      image: { type: 'string' },
      version: { type: 'string' },
      standby: { type: 'string' },
    })
    const config = loadConfig(requireOption('upgrade', 'config', values.config))
    const standby = values.standby
    if (standby !== undefined && !(SLOT_NAMES as readonly string[]).includes(standby)) {
      throw new InvalidInputError('--standby', 'must be blue or green')
    }
    const session = openRunSession(config, output)
    const report = await runUpgrade({
      config,
      image: requireOption('upgrade', 'image', values.image),
      ...(values.version ? { version: values.version } : {}),
      ...(standby ? { standby: standby as SlotName } : {}),
      proxy: session.proxy,
      bus: session.bus,
    }).finally(() => session.stop())
    return reportExit(report, output)
  },
}
