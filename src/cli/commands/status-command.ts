import { loadConfig } from '../../config/load-config.js'
import { parseOptions, requireOption, type Command, type Output } from '../command.js'
import { EXIT } from '../exit-codes.js'
import { printJson, type StatusJson } from '../json-output.js'
import { factLine } from '../fact-lines.js'
import { gatherStatus } from '../status-report.js'

export const statusCommand: Command = {
  usage: `handover status --config FILE [--json]

  --config FILE     the service's handover.yaml
  --json            one JSON object (StatusJson in src/cli/json-output.ts; README "Scripting the CLI")

Slots (proxy state, container, image, the version each answers), the schema version and
the last run with its phases. An agent that does not answer is reported, not an error.`,
  async run(args, output) {
    const values = parseOptions('status', args, { config: { type: 'string' }, json: { type: 'boolean' } })
    const config = loadConfig(requireOption('status', 'config', values.config))
    const status = await gatherStatus(config)
    if (values.json) printJson(output, status)
    else printStatus(output, status)
    return EXIT.OK
  },
}

function printStatus(output: Output, status: StatusJson): void {
  output.out(`service ${status.service}, proxy ${status.proxy.listen}`)
  output.out(status.proxy.error === null ? `  proxy: ${status.proxy.buffered} requests held in the buffer` : `  proxy: ${status.proxy.error}`)
  for (const slot of status.slots) {
    const proxy = slot.proxy ? `${slot.proxy.state}, ${slot.proxy.inFlight} in flight` : 'unknown'
    const runtime = slot.container ? `${slot.container.image} ${slot.container.running ? 'running' : `stopped (exit ${slot.container.exitCode})`}` : 'no container'
    const version = slot.container?.running ? `, answers version ${slot.answersVersion ?? '(no answer)'}` : ''
    output.out(`  ${slot.slot.padEnd(6)} port ${slot.port}  proxy: ${proxy}  container: ${runtime}${version}`)
  }
  output.out(`  schema ${status.schema.name}: version ${status.schema.version}`)
  for (const schedule of status.schedules ?? []) {
    const last = schedule.windows[0]
    output.out(`  schedule ${schedule.id}: "${schedule.cron}" ${schedule.timezone} → ${schedule.image}, next ${schedule.nextRunAt ?? 'never'}${last ? `; last window ${last.scheduledAt} ${last.outcome}` : ''}`)
  }
  const run = status.lastRun
  if (run === null) {
    output.out('  last run: none')
    return
  }
  output.out(`  last run ${run.id}: ${run.fromVersion} → ${run.toVersion} ${run.result}, started ${run.startedAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}, by ${run.operator}@${run.host}`)
  output.out(`    point of no return: ${run.pointOfNoReturnPassed ? 'passed' : 'not passed'}`)
  if (run.watch?.state === 'taking-over') output.out(`    the agent is resuming it (takeover ${run.watch.takeovers}, pid ${run.watch.takeoverPid}, output in ${run.watch.logFile}); \`handover follow\` shows its progress`)
  else if (run.watch?.state === 'gave-up') output.out(`    the agent gave up resuming it after ${run.watch.takeovers} takeovers (last exit ${run.watch.lastExit}); see the agent's log, then resume or abort by hand`)
  if (run.processGone && run.watch?.state !== 'taking-over') {
    const ways = run.pointOfNoReturnPassed ? '`handover resume` finishes it' : '`handover resume` finishes it, `handover abort` undoes it'
    output.out(`    its process is gone (no one holds the service lock): ${ways}`)
  }
  if (run.error) output.out(`    error: [${run.error.code}] ${run.error.message}`)
  for (const step of run.steps) {
    const duration = step.durationSeconds === null ? '' : `${step.durationSeconds.toFixed(2)}s`
    output.out(`    ${step.action === 'undo' ? 'undo ' : ''}${step.phase.padEnd(18)} ${step.status.padEnd(10)} ${duration}`)
  }
  if (run.facts.length > 0) output.out('    what it did:')
  for (const fact of run.facts) output.out(`      ${(fact.phase ?? '').padEnd(16)} ${factLine(fact)}`)
}
