/**
 * A timeout that cancels. Racing work against a timer is not a timeout: the work goes on
 * after the race is lost, so an undo could start while the forward still runs. Here the
 * work gets an AbortSignal that aborts at the bound, and the caller hears about the timeout
 * only once the work has settled; if it has not stopped within a grace, that is reported as
 * its own error so the caller can refuse to act beside it.
 */
import { HandoverError, TimeoutError } from '../../errors.js'

export class WorkDidNotStopError extends HandoverError {
  readonly code = 'DID_NOT_STOP'

  constructor(
    readonly what: string,
    readonly timeoutSeconds: number,
    readonly graceSeconds: number,
  ) {
    super(
      `${what} did not finish within ${timeoutSeconds}s and was still running ${graceSeconds}s after it was cancelled; ` +
        'nothing was undone beside it. Check the containers, the proxy (`handover status`) and running queries before acting',
    )
  }
}

export interface Bound {
  /** For messages: "phase expand", "undo of flip". */
  what: string
  seconds: number
  graceSeconds: number
}

export async function runBounded(work: (signal: AbortSignal) => Promise<void>, bound: Bound): Promise<void> {
  const controller = new AbortController()
  // Started inside then() so a synchronous throw becomes a rejection like any other failure.
  const running = Promise.resolve().then(() => work(controller.signal))
  const finishedInTime = await settlesWithin(running, bound.seconds, true)
  if (finishedInTime) return running
  const timeout = new TimeoutError(bound.what, bound.seconds)
  controller.abort(timeout)
  if (!(await settlesWithin(running, bound.graceSeconds, false))) throw new WorkDidNotStopError(bound.what, bound.seconds, bound.graceSeconds)
  throw timeout
}

/** True when `work` settles within `seconds`; with `propagate`, its rejection is passed on as is. */
async function settlesWithin(work: Promise<void>, seconds: number, propagate: boolean): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), seconds * 1000)
  })
  const settled = propagate ? work.then(() => true as const) : work.then(() => true as const, () => true as const)
  try {
    return await Promise.race([settled, expired])
  } finally {
    clearTimeout(timer)
  }
}
