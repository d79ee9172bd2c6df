/**
 * The exit codes of every `handover` command, in one place: scripts branch on these, and
 * `handover --help` prints this table.
 */
export const EXIT = {
  /** Done: the command did what it was asked (an upgrade: the service runs the new version). */
  OK: 0,
  /** The command failed and left things safe: an upgrade rolled back with nothing lost, a plan refused, a service or run not found. */
  FAILED: 1,
  /** Bad arguments, config or input: nothing was changed. */
  USAGE: 2,
  /** An upgrade stopped where only an operator can go on: it failed past the point of no return, or its rollback failed. */
  NEEDS_OPERATOR: 3,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

export const EXIT_CODE_HELP = [
  'exit codes:',
  `  ${EXIT.OK}  done (upgrade: the service runs the new version)`,
  `  ${EXIT.FAILED}  failed and left safe (upgrade: rolled back, nothing lost; plan: refused or no chain)`,
  `  ${EXIT.USAGE}  bad arguments, config or input; nothing was changed`,
  `  ${EXIT.NEEDS_OPERATOR}  upgrade stopped past the point of no return, or its rollback failed: see handover status`,
].join('\n')
