/**
 * Every failure an operator can see is a HandoverError: a stable `code` that scripts and
 * tests match on, the facts as fields, and a message that says what to do next.
 */
export abstract class HandoverError extends Error {
  abstract readonly code: string

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Input the operator gave (file, field, argument, request body) is wrong; nothing was changed. */
export class InvalidInputError extends HandoverError {
  readonly code = 'INVALID_INPUT'

  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${where}: ${problem}`)
  }
}

/** A step did not finish within its bound. */
export class TimeoutError extends HandoverError {
  readonly code = 'TIMEOUT'

  constructor(
    readonly what: string,
    readonly seconds: number,
  ) {
    super(`${what} did not finish within ${seconds}s`)
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
