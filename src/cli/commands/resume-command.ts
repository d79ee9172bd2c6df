import { loadConfig } from '../../config/load-config.js'
import { steerUnfinishedRun } from '../../upgrade/steering/resume-run.js'
import { NoUnfinishedRunError } from '../../upgrade/steering/unfinished-run.js'
import { EXIT } from '../exit-codes.js'
import { parseOptions, requireOption, type Command } from '../command.js'
import { openRunSession, reportExit } from '../run-session.js'

export const resumeCommand: Command = {
  usage: `handover resume --config FILE [--rollback] [--run ID]

  --config FILE     the service's handover.yaml
  --rollback        before the point of no return, undo the run instead of finishing it
  --run ID          the run meant (the agent's takeover passes it): when that run has
                    ended already, the agent stops watching it and the exit code is 0

Takes over the service's unfinished run (its process died: SIGKILL, a closed SSH session, a
crashed host) from the journal, and appends its steps to the same run. Past the point of no
return it goes forward from the first phase not completed; before it, forward too unless
--rollback is given (a run whose process had begun rolling back is rolled back). Each phase
checks the real state first and does only what is missing. A run whose process still lives
holds the service lock and is refused (LOCK_HELD).

Exit code 0: the run finished (upgraded; with --rollback: undone, the old version runs);
1: rolled back after a failure, nothing lost, or no unfinished run (NO_UNFINISHED_RUN), or
its process still lives (LOCK_HELD); 2: bad arguments or config; 3: an operator must act
(handover status).`,
  async run(args, output) {
    const values = parseOptions('resume', args, { config: { type: 'string' }, rollback: { type: 'boolean' }, run: { type: 'string' } })
    const config = loadConfig(requireOption('resume', 'config', values.config))
    const session = openRunSession(config, output)
    const steered = steerUnfinishedRun({ config, steering: values.rollback ? 'rollback' : 'resume', proxy: session.proxy, bus: session.bus, note: session.note }).finally(() => session.stop())
    const report = await steered.catch(async (error: unknown) => {
      if (values.run === undefined || !(error instanceof NoUnfinishedRunError)) throw error
      await session.proxy.finishRun(values.run).catch(() => undefined)
      return undefined
    })
    if (report === undefined) {
      output.out(`run ${values.run} has ended already; nothing to resume`)
      return EXIT.OK
    }
    if (values.rollback && report.result === 'rolled_back') {
      output.out(`run ${report.runId} rolled back to ${report.from.image} (version ${report.from.version})`)
      return 0
    }
    return reportExit(report, output)
  },
}
