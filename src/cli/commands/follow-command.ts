import type { HandoverConfig } from '../../config/config.js'
import { loadConfig } from '../../config/load-config.js'
import { connect } from '../../db/connection.js'
import { Journal } from '../../db/journal/journal.js'
import { InvalidInputError } from '../../errors.js'
import { AdminClient } from '../../protocol/admin-client.js'
import { parseOptions, requireOption, type Command, type Output } from '../command.js'
import { EXIT } from '../exit-codes.js'
import { stepsToPrint } from '../follow-steps.js'
import { readRunHistory, readRunSteps } from '../run-history.js'

const POLL_MS = 500
const DEFAULT_WAIT_SECONDS = 6 * 3600

export const followCommand: Command = {
  usage: `handover follow --config FILE [--timeout SECONDS]

  --config FILE       the service's handover.yaml
  --timeout SECONDS   stop following after this long (default ${DEFAULT_WAIT_SECONDS}); the run goes on

Re-attaches to the service's run in progress, whoever runs it (a terminal, or the agent's
takeover after that terminal's process died): prints each phase step from the journal as
it is written, and the agent's takeovers, until the run ends. A run that has ended already
is summed up at once. Exit code: 0 upgraded, 1 rolled back, 3 stopped where an operator must
act, 1 also when --timeout passes first.`,
  async run(args, output) {
    const values = parseOptions('follow', args, { config: { type: 'string' }, timeout: { type: 'string' } })
    const config = loadConfig(requireOption('follow', 'config', values.config))
    const seconds = values.timeout === undefined ? DEFAULT_WAIT_SECONDS : Number(values.timeout)
    if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidInputError('--timeout', 'must be a number of seconds above 0')
    return follow(config, output, Date.now() + seconds * 1000)
  },
}

async function follow(config: HandoverConfig, output: Output, deadline: number): Promise<number> {
  const db = await connect(config.database)
  const agent = new AdminClient(config.agent.socket, 2)
  try {
    const schema = config.database.journalSchema
    await Journal.ensureTables(db, schema)
    let printedSteps = 0
    let headerPrinted = false
    let lastWatch = ''
    for (;;) {
      const [run] = await readRunHistory(db, schema, config.service.name, 1)
      if (!run) {
        output.err(`service ${config.service.name} has no run in the journal`)
        return EXIT.FAILED
      }
      if (!headerPrinted) output.out(`run ${run.id}: ${run.fromVersion} → ${run.toVersion}, started ${run.startedAt} by ${run.operator}@${run.host}`)
      headerPrinted = true
      for (const step of stepsToPrint(await readRunSteps(db, schema, run.id), printedSteps, run.result !== 'running')) {
        output.out(`  ${step.action === 'undo' ? 'undo ' : ''}${step.phase.padEnd(18)} ${step.status === 'started' ? 'cut off (its process died)' : step.status}${step.durationSeconds === null ? '' : ` ${step.durationSeconds.toFixed(2)}s`}${step.errorMessage ? `: ${step.errorMessage}` : ''}`)
        printedSteps++
      }
      const watch = (await agent.listRuns().catch(() => [])).find((entry) => entry.runId === run.id)
      const watchLine = watch?.state === 'taking-over' ? `  the agent is resuming the run (takeover ${watch.takeovers}, output in ${watch.logFile})` : watch?.state === 'gave-up' ? `  the agent gave up resuming the run after ${watch.takeovers} takeovers` : ''
      if (watchLine !== '' && watchLine !== lastWatch) output.out(watchLine)
      lastWatch = watchLine
      if (run.result !== 'running') {
        output.out(`run ${run.id} ${run.result}${run.error ? `: [${run.error.code}] ${run.error.message}` : ''}`)
        return run.result === 'succeeded' ? EXIT.OK : run.result === 'rolled_back' ? EXIT.FAILED : EXIT.NEEDS_OPERATOR
      }
      if (Date.now() >= deadline) {
        output.err(`still running after --timeout; the run goes on (handover follow again, or handover status)`)
        return EXIT.FAILED
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  } finally {
    await db.end()
  }
}
