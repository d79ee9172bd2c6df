import { loadConfig } from '../../config/load-config.js'
import { InvalidInputError } from '../../errors.js'
import { DockerRuntime } from '../../runtime/docker-runtime.js'
import { planUpgrade } from '../../upgrade/planning/plan-upgrade.js'
import { resolveTarget } from '../../upgrade/planning/target-release.js'
import { parseOptions, requireOption, type Command, type Output } from '../command.js'
import { EXIT } from '../exit-codes.js'
import { printJson, type PlanJson } from '../json-output.js'
import { toPlanJson } from '../plan-json.js'

export const planCommand: Command = {
  usage: `handover plan --config FILE (--image IMAGE | --version V) [--json]

  --config FILE     the service's handover.yaml
  --image IMAGE     the target image; its version label names the target version
  --version V       the target version (instead of, or overriding, --image)
  --json            one JSON object (PlanJson in src/cli/json-output.ts; README "Scripting the CLI")

Changes nothing: the chain runs on a throw-away copy of the schema's structure, which is removed.\nExit 1 when an upgrade along the plan would be refused (see refusals).`,
  async run(args, output) {
    const values = parseOptions('plan', args, { config: { type: 'string' }, image: { type: 'string' }, version: { type: 'string' }, json: { type: 'boolean' } })
    const config = loadConfig(requireOption('plan', 'config', values.config))
    if (!values.image && !values.version) throw new InvalidInputError('handover plan', 'give --image or --version (see handover plan --help)')
    const target = values.image ? (await resolveTarget(new DockerRuntime(), values.image, values.version)).version : values.version!
    const plan = toPlanJson(await planUpgrade(config, target))
    if (!values.json) return printPlan(plan, output)
    printJson(output, plan)
    return plan.allowed ? EXIT.OK : EXIT.FAILED
  },
}

const UNDONE_BY = {
  definition: '  [undo: the table definition before it, put back]',
  rows: '  [undo: the rows before it, from a copy taken while requests are held]',
} as const

/** Exit 1 when an upgrade along this plan would be refused. */
function printPlan(plan: PlanJson, output: Output): number {
  if (plan.scripts.length === 0) {
    output.out(`schema ${plan.schema} is at version ${plan.current}, the target is ${plan.target}: nothing to do`)
    return EXIT.OK
  }
  output.out(`schema ${plan.schema}: ${plan.current} → ${plan.target} in ${plan.scripts.length} script(s), the fewest that reach it`)
  for (const script of plan.scripts) {
    const why = script.replaces.length > 0 ? `, a bundle standing in for ${script.replaces.join(', ')}` : ''
    output.out(`  ${script.name}  ${script.from} → ${script.to}${why}`)
    for (const statement of script.statements) {
      const sql = statement.sql
      const kind = statement.kind ? ` (${statement.kind})` : ''
      const cost = statement.algorithm ? `  [${statement.algorithm}${statement.algorithm === 'COPY' ? ': copies the table, blocking writes' : ''}]` : ''
      const soft = statement.keptAs ? `  [kept as ${statement.keptAs} until finalize]` : statement.undoneBy ? UNDONE_BY[statement.undoneBy] : ''
      output.out(`    ${statement.part.padEnd(8)} line ${String(statement.line).padEnd(4)} ${sql.length > 70 ? `${sql.slice(0, 67)}...` : sql}${kind}${cost}${soft}${howItRuns(statement)}`)
    }
  }
  output.out(`rehearsal on a copy of the schema: ${plan.rehearsal.statements} statements and ${plan.rehearsal.undoStatements} undo statements ran`)
  output.out(`the contract holds requests for about ${plan.hold.estimateSeconds.toFixed(1)} s (proxy.buffer.maxWaitSeconds: ${plan.hold.maxWaitSeconds} s)`)
  for (const warning of plan.warnings) output.out(`warning: ${warning}`)
  for (const problem of plan.refusals) output.err(`refused: ${problem}`)
  return plan.allowed ? EXIT.OK : EXIT.FAILED
}

function howItRuns(statement: PlanJson['scripts'][number]['statements'][number]): string {
  if (statement.replacedByCapture) return '  [not run: the capture of its backfill keeps the rows in step]'
  if (statement.rebuiltOnline) return '  [rebuilt beside the table during the expand; the contract swaps it in]'
  if (statement.heldSeconds !== null) return `  [while requests are held: ~${statement.heldSeconds.toFixed(1)} s]`
  if (!statement.backfill) return ''
  const capture = { 'row-trigger': "old version's writes applied by triggers", 'changed-keys': "old version's written keys replayed", uncaptured: 'not captured: runs again in the contract' }[statement.backfill.capture]
  return `  [online${statement.backfill.chunked ? ', in key-range chunks' : ''}; ${capture}]`
}
