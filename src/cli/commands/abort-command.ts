import { loadConfig } from '../../config/load-config.js'
import { steerUnfinishedRun } from '../../upgrade/steering/resume-run.js'
import { parseOptions, requireOption, type Command } from '../command.js'
import { EXIT } from '../exit-codes.js'
import { openRunSession, reportExit } from '../run-session.js'

export const abortCommand: Command = {
  usage: `handover abort --config FILE

  --config FILE     the service's handover.yaml

Undoes the service's unfinished run (its process died) that has not crossed the point of no
return: the undo of every phase that started, in reverse, appended to the same run, which
ends rolled_back. Past the point of no return v2 has served and undoing would lose its
writes: refused (PAST_POINT_OF_NO_RETURN); finish it with \`handover resume\`. A run whose
process still lives holds the service lock and is refused (LOCK_HELD).

Exit code 0: undone, the service runs the old version; 1: refused, or no unfinished run;
2: bad arguments or config; 3: the undo failed: an operator must act (handover status).`,
  async run(args, output) {
    const values = parseOptions('abort', args, { config: { type: 'string' } })
    const config = loadConfig(requireOption('abort', 'config', values.config))
    const session = openRunSession(config, output)
    const report = await steerUnfinishedRun({ config, steering: 'abort', proxy: session.proxy, bus: session.bus, note: session.note }).finally(() => session.stop())
    if (report.result !== 'rolled_back') return reportExit(report, output)
    output.out(`run ${report.runId} undone: the service runs ${report.from.image} (version ${report.from.version})`)
    return EXIT.OK
  },
}
