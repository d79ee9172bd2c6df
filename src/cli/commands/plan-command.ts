import { loadConfig } from '../../config/load-config.js'
import { undoAdvice } from '../../db/migration-script.js'
import { formatVersion } from '../../db/version.js'
import { InvalidInputError } from '../../errors.js'
import { DockerRuntime } from '../../runtime/docker-runtime.js'
import { planUpgrade, type UpgradePlan } from '../../upgrade/plan-upgrade.js'
import { resolveTarget } from '../../upgrade/target-release.js'
import { parseOptions, requireOption, type Command, type Output } from '../command.js'

export const planCommand: Command = {
  usage: `handover plan --config FILE (--image IMAGE | --version V)

  --config FILE     the service's handover.yaml
  --image IMAGE     the target image; its version label names the target version
  --version V       the target version (instead of, or overriding, --image)

Changes nothing: the chain runs on a throw-away copy of the schema's structure, which is removed.`,
  async run(args, output) {
    const values = parseOptions('plan', args, { config: { type: 'string' }, image: { type: 'string' }, version: { type: 'string' } })
    const config = loadConfig(requireOption('plan', 'config', values.config))
    if (!values.image && !values.version) throw new InvalidInputError('handover plan', 'give --image or --version (see handover plan --help)')
    const target = values.image ? (await resolveTarget(new DockerRuntime(), values.image, values.version)).version : values.version!
    return printPlan(await planUpgrade(config, target), output)
  },
}

/** Exit 1 when an upgrade along this plan would be refused. */
function printPlan(plan: UpgradePlan, output: Output): number {
  if (plan.steps.length === 0) {
    output.out(`schema ${plan.schema} is at version ${plan.current}, the target is ${plan.target}: nothing to do`)
    return 0
  }
  output.out(`schema ${plan.schema}: ${plan.current} → ${plan.target} in ${plan.steps.length} script(s), the fewest that reach it`)
  for (const step of plan.steps) {
    const why = step.replaces.length > 1 ? `, a bundle standing in for ${step.replaces.map((s) => s.name).join(', ')}` : ''
    output.out(`  ${step.script.name}  ${formatVersion(step.from)} → ${formatVersion(step.to)}${why}`)
    for (const statement of plan.rehearsed.filter((s) => s.script === step.script.name && !s.part.endsWith('-undo'))) {
      const planned = step.script.parts[statement.part][statement.index]!
      const sql = planned.sql.replace(/\s+/g, ' ')
      const kind = planned.classified ? ` (${planned.classified.kind})` : ''
      const cost = statement.algorithm ? `  [${statement.algorithm}${statement.algorithm === 'COPY' ? ': copies the table, blocking writes' : ''}]` : ''
      const soft = statement.softDrop ? `  [kept as ${statement.softDrop.softName} until finalize]` : ''
      output.out(`    ${statement.part.padEnd(8)} line ${String(statement.line).padEnd(4)} ${sql.length > 70 ? `${sql.slice(0, 67)}...` : sql}${kind}${cost}${soft}`)
    }
  }
  const undo = plan.rehearsed.filter((s) => s.part.endsWith('-undo')).length
  output.out(`rehearsal on a copy of the schema: ${plan.rehearsed.length - undo} statements and ${undo} undo statements ran`)
  const problems = plan.steps.flatMap((step) => step.script.undoProblems.map((problem) => `${problem}; ${undoAdvice(step.script)}`))
  for (const problem of problems) output.err(`refused: ${problem}; a failed upgrade could not roll it back`)
  return problems.length > 0 ? 1 : 0
}
