import { SLOT_NAMES, type SlotName } from '../../config/config.js'
import { loadConfig } from '../../config/load-config.js'
import { InvalidInputError } from '../../errors.js'
import { AdminClient } from '../../protocol/admin-client.js'
import { EventBus } from '../../upgrade/event-bus.js'
import { runUpgrade } from '../../upgrade/run-upgrade.js'
import { STRICT_PHASES } from '../../upgrade/strict-phases.js'
import { parseOptions, requireOption, type Command } from '../command.js'
import { EXIT } from '../exit-codes.js'
import { LiveProgress } from '../live-progress.js'

export const upgradeCommand: Command = {
  usage: `handover upgrade --config FILE --image IMAGE [--version V] [--standby blue|green]

  --config FILE     the service's handover.yaml
  --image IMAGE     the new image (present on this host)
  --version V       the target version; default: the image's org.opencontainers.image.version label
  --standby SLOT    the slot upgraded first (default green)

On a terminal a status line shows the running phase, its elapsed time and the requests held
in the buffer; otherwise (a pipe, CI) only plain lines, one per phase.

Exit code 0: upgraded; 1: failed and rolled back, nothing lost; 2: bad arguments or config;
3: stopped past the point of no return, or the rollback failed: an operator must act (handover status).`,
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
    const proxy = new AdminClient(config.agent.socket)
    const bus = new EventBus((error, event) => output.err(`warning: could not report ${event.type} to the agent: ${(error as Error).message}`))
    const progress = new LiveProgress({
      output,
      phaseNames: STRICT_PHASES.map((phase) => phase.name),
      heldRequests: async () => (await proxy.getService(config.service.name)).buffered,
    })
    bus.subscribe(progress.onEvent, { required: false })
    bus.subscribe((event) => proxy.reportEvent(event), { required: false })
    const report = await runUpgrade({
      config,
      image: requireOption('upgrade', 'image', values.image),
      ...(values.version ? { version: values.version } : {}),
      ...(standby ? { standby: standby as SlotName } : {}),
      proxy,
      bus,
      note: (message) => progress.note(`             ${message}`),
    }).finally(() => progress.stop())
    if (report.result === 'succeeded') return EXIT.OK
    output.err(`error: ${report.failedPhase} failed: [${report.error?.code}] ${report.error?.message}`)
    if (report.result === 'rolled_back') output.err(`rolled back to ${report.from.image} (version ${report.from.version}); nothing was lost`)
    else if (report.undoError) output.err(`rollback stopped at ${report.undoError.phase}: [${report.undoError.code}] ${report.undoError.message}`)
    if (report.result === 'rolled_back') return EXIT.FAILED
    if (!report.undoError) {
      if (report.pointOfNoReturnPassed) output.err('the run is past the point of no return (v2 has served); it was not rolled back. See `handover status`.')
      else output.err('nothing was undone, because the failed phase did not stop in time; check the service by hand (`handover status`) before anything else.')
    }
    return EXIT.NEEDS_OPERATOR
  },
}
