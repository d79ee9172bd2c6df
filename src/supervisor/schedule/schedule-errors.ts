import { HandoverError } from '../../errors.js'

export class ScheduleNotFoundError extends HandoverError {
  readonly code = 'SCHEDULE_NOT_FOUND'

  constructor(readonly id: string) {
    super(`no schedule ${id}; \`handover schedule list\` shows the ids`)
  }
}

export class ScheduleFileError extends HandoverError {
  readonly code = 'SCHEDULE_FILE_INVALID'

  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`schedule file ${path}: ${problem}; fix or move the file, then start the agent again`)
  }
}

export class ScheduleWriteError extends HandoverError {
  readonly code = 'SCHEDULE_WRITE_FAILED'

  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot write schedule file ${path}: ${cause instanceof Error ? cause.message : String(cause)}; the change would not survive an agent restart, so it was not made`, { cause })
  }
}
