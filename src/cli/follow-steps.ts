/**
 * Which journaled steps `handover follow` prints next. A step is printed once it has an
 * outcome, or once a later step exists: a step left `started` by a process that died is
 * followed by the takeover's own step, and is printed then as cut off. The running step,
 * the last one, waits for its outcome.
 */
import type { StatusStepJson } from './json-output.js'

export function stepsToPrint(steps: readonly StatusStepJson[], printed: number): StatusStepJson[] {
  const next: StatusStepJson[] = []
  for (let index = printed; index < steps.length; index++) {
    const step = steps[index]!
    if (step.status === 'started' && index === steps.length - 1) break
    next.push(step)
  }
  return next
}
