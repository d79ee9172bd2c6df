import { loadConfig } from '../../config/load-config.js'
import { connect } from '../../db/connection.js'
import { Journal } from '../../db/journal/journal.js'
import { InvalidInputError } from '../../errors.js'
import { parseOptions, requireOption, type Command, type Output } from '../command.js'
import { EXIT } from '../exit-codes.js'
import { printJson, type HistoryJson, type HistoryRunJson } from '../json-output.js'
import { readRunHistory } from '../run-history.js'

export const historyCommand: Command = {
  usage: `handover history --config FILE [--limit N] [--json]

  --config FILE     the service's handover.yaml
  --limit N         the newest N runs (default 20, at most 1000)
  --json            one JSON object (HistoryJson in src/cli/json-output.ts; README "Scripting the CLI")

Past upgrade runs of the service from the journal, newest first: id, versions, start,
duration, result and who ran it (user@host).`,
  async run(args, output) {
    const values = parseOptions('history', args, { config: { type: 'string' }, limit: { type: 'string', default: '20' }, json: { type: 'boolean' } })
    const limit = Number(values.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidInputError('--limit', `must be a whole number from 1 to 1000, got "${values.limit}"`)
    const config = loadConfig(requireOption('history', 'config', values.config))
    const db = await connect(config.database)
    try {
      await Journal.ensureTables(db, config.database.journalSchema)
      const runs = await readRunHistory(db, config.database.journalSchema, config.service.name, limit)
      if (values.json) printJson(output, { service: config.service.name, runs } satisfies HistoryJson)
      else printHistory(output, config.service.name, runs)
      return EXIT.OK
    } finally {
      await db.end()
    }
  },
}

/** The run's facts in a few words; empty for a run journaled before facts were. */
function summaryLine(summary: HistoryRunJson['summary']): string {
  const parts: string[] = []
  if (summary.statements) parts.push(`${summary.statements} statements (${summary.rowsTouched} rows)`)
  if (summary.longestHoldSeconds !== null) parts.push(`${summary.heldRequestsReleased} requests held, longest ${summary.longestHoldSeconds.toFixed(2)}s`)
  if (summary.softDropsMade || summary.softDropsPurged) parts.push(`soft drops ${summary.softDropsMade} made, ${summary.softDropsPurged} purged`)
  if (summary.containersReplaced) parts.push(`${summary.containersReplaced} containers replaced`)
  if (summary.pointOfNoReturnCrossedAt) parts.push(`point of no return ${summary.pointOfNoReturnCrossedAt.slice(11, 23)}`)
  return parts.join('; ')
}

function printHistory(output: Output, service: string, runs: HistoryRunJson[]): void {
  if (runs.length === 0) {
    output.out(`no upgrade runs of ${service} in the journal`)
    return
  }
  output.out(`${'started (UTC)'.padEnd(20)} ${'from → to'.padEnd(14)} ${'duration'.padStart(9)}  ${'result'.padEnd(11)} ${'by'.padEnd(24)} run`)
  for (const run of runs) {
    const duration = run.durationSeconds === null ? '-' : `${run.durationSeconds.toFixed(1)}s`
    const versions = `${run.fromVersion} → ${run.toVersion}`
    output.out(`${run.startedAt.slice(0, 19).replace('T', ' ').padEnd(20)} ${versions.padEnd(14)} ${duration.padStart(9)}  ${run.result.padEnd(11)} ${`${run.operator}@${run.host}`.padEnd(24)} ${run.id}`)
    if (run.error) output.out(`${''.padEnd(20)} [${run.error.code}] ${run.error.message}`)
    const summary = summaryLine(run.summary)
    if (summary) output.out(`${''.padEnd(20)} ${summary}`)
  }
}
