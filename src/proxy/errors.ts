/**
 * Failures of the agent's data plane and admin API. Each has a stable `code`; the admin API
 * maps codes to HTTP statuses (admin-api.ts) and the client maps them back (protocol/admin-client.ts).
 */
import { HandoverError } from '../errors.js'
import type { SlotName, SlotState } from '../protocol/routes.js'

export class UnknownServiceError extends HandoverError {
  readonly code = 'SERVICE_NOT_FOUND'

  constructor(readonly service: string) {
    super(`service "${service}" is not registered with the agent; register it with PUT /v1/services/${service}`)
  }
}

export class IllegalTransitionError extends HandoverError {
  readonly code = 'ILLEGAL_TRANSITION'

  constructor(
    readonly service: string,
    readonly slot: SlotName,
    readonly from: SlotState,
    readonly to: SlotState,
    readonly allowed: readonly SlotState[],
  ) {
    super(
      `service "${service}" slot ${slot}: cannot go from ${from} to ${to}` +
        ` (from ${from} it may go to: ${allowed.join(', ') || 'nothing'})`,
    )
  }
}

/** A listen address could not be bound (in use, not permitted, bad address). */
export class ListenError extends HandoverError {
  readonly code = 'LISTEN_FAILED'

  /** `owner` says who wanted the address: `service "shop"`, `metrics`. */
  constructor(
    readonly owner: string,
    readonly address: string,
    cause: unknown,
  ) {
    super(`${owner}: cannot listen on ${address}: ${causeText(cause)}; free the address or choose another port`, { cause })
  }
}

/** A state file of the agent (routes, watched runs) exists but cannot be used; the agent refuses to start rather than forget what it holds. */
export class StateFileError extends HandoverError {
  readonly code = 'STATE_FILE_INVALID'

  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`agent state file ${path}: ${problem}; fix or move the file, then start the agent again`)
  }
}

export class StateWriteError extends HandoverError {
  readonly code = 'STATE_WRITE_FAILED'

  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot write agent state file ${path}: ${causeText(cause)}; the change is live but will not survive an agent restart`, {
      cause,
    })
  }
}

export class AgentAlreadyRunningError extends HandoverError {
  readonly code = 'AGENT_ALREADY_RUNNING'

  constructor(readonly socketPath: string) {
    super(`another agent already answers on ${socketPath}; stop it first or use another --socket path`)
  }
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code
    return code === undefined ? cause.message : `${code}: ${cause.message}`
  }
  return String(cause)
}

/** A TCP admin listener that would send the admin token in clear text over a network. */
export class InsecureAdminListenerError extends HandoverError {
  readonly code = 'ADMIN_LISTENER_INSECURE'

  constructor(readonly address: string) {
    super(
      `the admin API would listen on ${address}, which is not a loopback address, without TLS: every request's token would cross the network in clear text; ` +
        'pass --admin-tls-cert and --admin-tls-key, listen on 127.0.0.1, or accept the risk with --admin-insecure-tcp',
    )
  }
}

/** The admin API has no such endpoint (wrong path or method). */
export class NoSuchEndpointError extends HandoverError {
  readonly code = 'NO_SUCH_ENDPOINT'

  constructor(
    readonly method: string,
    readonly path: string,
  ) {
    super(`the agent has no endpoint ${method} ${path}; is the agent older than this handover?`)
  }
}

export class BodyTooLargeError extends HandoverError {
  readonly code = 'BODY_TOO_LARGE'

  constructor(readonly limitBytes: number) {
    super(`request body is larger than ${limitBytes} bytes`)
  }
}

/**
 * A message head or body the proxy cannot forward safely. `status` is what the client gets:
 * 400/431/505 for a bad request, 502 for a bad upstream response.
 */
export class HeadError extends HandoverError {
  readonly code = 'BAD_HTTP_MESSAGE'

  constructor(
    readonly status: number,
    readonly problem: string,
  ) {
    super(`cannot forward this HTTP message: ${problem}`)
  }
}
