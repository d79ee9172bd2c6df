import { parseArgs, type ParseArgsConfig } from 'node:util'
import { InvalidInputError } from '../errors.js'

export interface Output {
  out(line: string): void
  err(line: string): void
  /** stdout is a terminal: progress may redraw a line in place (with write). */
  isTTY?: boolean
  /** Raw text to stdout, no newline added; only used when isTTY. */
  write?(text: string): void
}

/** A command's code; its name and summary are in command-list.ts. */
export interface Command {
  usage: string
  /** Returns the process exit code. */
  run(args: string[], output: Output): Promise<number>
}

type Options = NonNullable<ParseArgsConfig['options']>

/** parseArgs with errors that name the argument, as InvalidInputError. */
export function parseOptions<T extends Options>(command: string, args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values
  } catch (error) {
    throw new InvalidInputError(`handover ${command}`, `${(error as Error).message.replace(/\. To specify.*$/s, '')} (see handover ${command} --help)`)
  }
}

export function requireOption(command: string, name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new InvalidInputError(`handover ${command}`, `--${name} is required (see handover ${command} --help)`)
  return value
}
