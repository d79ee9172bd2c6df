/**
 * Which journaled steps `handover follow` prints next. A step is printed once it has an
 * outcome. A step left `started` by a process that died is superseded by the takeover's own
 * step of the same phase, or by the run's end, and is printed then as cut off. A step merely
 * `started` with a later step after it is not dead: the completion of a step can land after
 * the next step's start.
 */
import type { StatusStepJson } from './json-output.js'

export function stepsToPrint(steps: readonly StatusStepJson[], printed: number, runEnded: boolean): StatusStepJson[] {
  const next: StatusStepJson[] = []
  for (let index = printed; index < steps.length; index++) {
    const step = steps[index]!
    const superseded = runEnded || steps.slice(index + 1).some((other) => other.phase === step.phase && other.action === step.action)
    if (step.status === 'started' && !superseded) break
    next.push(step)
  }
  return next
}
