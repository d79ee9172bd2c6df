import type { Journal, RunRecord, StepRecord } from '../../db/journal/journal.js'
import { HandoverError } from '../../errors.js'
import type { Phase } from '../run/upgrade-context.js'

/** An upgrade was asked for while an earlier run of the service is unfinished (its process died). */
export class UnfinishedRunError extends HandoverError {
  readonly code = 'UNFINISHED_RUN'

  constructor(
    readonly runId: string,
    readonly phase: string,
  ) {
    super(
      `run ${runId} of this service did not finish (it stopped in ${phase}); ` +
        'finish it with `handover resume --config FILE`, or undo it with `handover abort --config FILE`, before a new upgrade',
    )
  }
}

/** resume or abort found nothing to steer. */
export class NoUnfinishedRunError extends HandoverError {
  readonly code = 'NO_UNFINISHED_RUN'

  constructor(readonly service: string) {
    super(`service ${service} has no unfinished run in the journal; see \`handover history\``)
  }
}

/** abort of a run that v2 has already served: undoing it would lose v2's writes. */
export class PastPointOfNoReturnError extends HandoverError {
  readonly code = 'PAST_POINT_OF_NO_RETURN'

  constructor(readonly runId: string) {
    super(
      `run ${runId} is past the point of no return: v2 has served and written in the new shape only, so undoing it would lose those writes; ` +
        'finish it with `handover resume --config FILE`',
    )
  }
}

/** Where an unfinished run stopped, read from its steps. */
export interface RunPosition {
  /** The phase of the last step written, or `(none)` when no phase started. */
  stoppedIn: string
  /** Index in `phases` of the first phase whose forward did not complete. */
  next: number
  /** Phases whose forward started, in run order. */
  started: Phase[]
  /** The earlier process had begun rolling back (a forward failed, or an undo started). */
  rollingBack: boolean
}

export function runPosition(phases: readonly Phase[], steps: readonly StepRecord[]): RunPosition {
  const forward = steps.filter((step) => step.action === 'forward')
  const completed = new Set(forward.filter((step) => step.status === 'completed').map((step) => step.phase))
  const startedNames = new Set(forward.map((step) => step.phase))
  const next = phases.findIndex((phase) => !completed.has(phase.name))
  return {
    stoppedIn: steps.at(-1)?.phase ?? '(none)',
    next: next === -1 ? phases.length : next,
    started: phases.filter((phase) => startedNames.has(phase.name)),
    rollingBack: steps.some((step) => step.action === 'undo' || step.status === 'failed'),
  }
}

/** A new upgrade must not start over a run that a resume or abort has to finish first. */
export async function refuseUnfinished(journal: Journal, service: string): Promise<void> {
  const run: RunRecord | undefined = await journal.unfinishedRun(service)
  if (!run) return
  const steps = await journal.steps(run.id)
  throw new UnfinishedRunError(run.id, steps.at(-1)?.phase ?? '(before the first phase)')
}
