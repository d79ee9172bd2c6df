import { HandoverError, errorMessage } from '../errors.js'
import { COMMANDS } from './command-list.js'
import type { Output } from './command.js'
import { EXIT, EXIT_CODE_HELP } from './exit-codes.js'

const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTTY: process.stdout.isTTY === true,
  write: (text) => process.stdout.write(text),
}

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length))
  return [
    'handover: zero-downtime blue/green upgrades for services on plain Docker hosts backed by MySQL',
    '',
    'usage: handover <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'handover <command> --help shows a command\'s options. Commands that read (status, plan,',
    'history, schedule list, backup list) print one JSON object with --json.',
    '',
    EXIT_CODE_HELP,
  ].join('\n')
}

/** Runs one CLI invocation; returns the exit code. Errors become one actionable line on stderr. */
export async function main(argv: string[], output: Output = consoleOutput): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    output.out(helpText())
    return name === undefined ? EXIT.USAGE : EXIT.OK
  }
  const entry = COMMANDS.find((candidate) => candidate.name === name)
  if (!entry) {
    output.err(`handover: unknown command "${name}"\n\n${helpText()}`)
    return EXIT.USAGE
  }
  try {
    // Inside the try: a module that fails to load is reported like any other failure.
    const command = await entry.load()
    if (args.includes('--help') || args.includes('-h')) {
      output.out(command.usage)
      return EXIT.OK
    }
    return await command.run(args, output)
  } catch (error) {
    if (error instanceof HandoverError) {
      output.err(`handover ${name}: [${error.code}] ${error.message}`)
      return error.code === 'INVALID_INPUT' ? EXIT.USAGE : EXIT.FAILED
    }
    output.err(`handover ${name}: unexpected error: ${errorMessage(error)}`)
    if (process.env.HANDOVER_DEBUG) output.err((error as Error).stack ?? '')
    return EXIT.FAILED
  }
}
