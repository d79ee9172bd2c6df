import { HandoverError } from '../../errors.js'

/** `file:line`, or `line N` when the caller gave no file. */
export function location(file: string | undefined, line: number): string {
  return file ? `${file}:${line}` : `line ${line}`
}

/** The SQL parser cannot read the statement, and no marker put it in a part. */
export class UnparseableStatementError extends HandoverError {
  readonly code = 'UNPARSEABLE_STATEMENT'

  constructor(
    readonly file: string | undefined,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${location(file, line)}: the SQL parser cannot read this statement (${problem}); put it under an explicit \`-- handover:expand\` or \`-- handover:contract\` marker`)
  }
}

/** The statement parses but no rule says whether the old version tolerates it. */
export class UnclassifiableStatementError extends HandoverError {
  readonly code = 'UNCLASSIFIABLE_STATEMENT'

  constructor(
    readonly file: string | undefined,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${location(file, line)}: cannot tell expand from contract: ${reason}; put it under an explicit \`-- handover:expand\` or \`-- handover:contract\` marker`)
  }
}

/** Moving expand statements before contract ones would change what the script does. */
export class SplitChangesMeaningError extends HandoverError {
  readonly code = 'SPLIT_CHANGES_MEANING'

  constructor(
    readonly file: string | undefined,
    readonly expandLine: number,
    readonly contractLine: number,
    readonly object: string,
  ) {
    super(
      `${location(file, expandLine)}: this expand statement and the contract statement before it at line ${contractLine} both use ${object}, and one of them changes it; running every expand statement first would change what the script does. Move the expand statements before the contract ones, or mark the parts explicitly`,
    )
  }
}
