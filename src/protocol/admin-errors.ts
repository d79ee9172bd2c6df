/**
 * How a call to the agent's admin API fails, as the caller sees it: the agent is not there,
 * or it answered with an error (its own code kept in `agentCode`).
 */
import { HandoverError } from '../errors.js'

export class AgentUnreachableError extends HandoverError {
  readonly code = 'AGENT_UNREACHABLE'

  constructor(
    readonly socketPath: string,
    cause: unknown,
  ) {
    super(`cannot reach the handover agent at ${socketPath} (${causeText(cause)}): is \`handover agent\` running?`, { cause })
  }
}

/** The agent answered with an error; `agentCode` is the agent-side error code (e.g. ILLEGAL_TRANSITION). */
export class AgentRequestError extends HandoverError {
  readonly code = 'AGENT_REQUEST_FAILED'

  constructor(
    readonly request: string,
    readonly status: number,
    readonly agentCode: string,
    readonly agentMessage: string,
  ) {
    super(`agent refused ${request} (${status} ${agentCode}): ${agentMessage}`)
  }
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code
    return code === undefined ? cause.message : `${code}: ${cause.message}`
  }
  return String(cause)
}
