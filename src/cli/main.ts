import { HandoverError, errorMessage } from '../errors.js'
import { COMMANDS } from './command-list.js'
import type { Output } from './command.js'

const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
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
    'handover <command> --help shows a command\'s options.',
  ].join('\n')
}

/** Runs one CLI invocation; returns the exit code. Errors become one actionable line on stderr. */
export async function main(argv: string[], output: Output = consoleOutput): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    output.out(helpText())
    return name === undefined ? 2 : 0
  }
  const entry = COMMANDS.find((candidate) => candidate.name === name)
  if (!entry) {
    output.err(`handover: unknown command "${name}"\n\n${helpText()}`)
    return 2
  }
  try {
    // Inside the try: a module that fails to load is reported like any other failure.
    const command = await entry.load()
    if (args.includes('--help') || args.includes('-h')) {
      output.out(command.usage)
      return 0
    }
    return await command.run(args, output)
  } catch (error) {
    if (error instanceof HandoverError) {
      output.err(`handover ${name}: [${error.code}] ${error.message}`)
      return error.code === 'INVALID_INPUT' ? 2 : 1
    }
    output.err(`handover ${name}: unexpected error: ${errorMessage(error)}`)
    if (process.env.HANDOVER_DEBUG) output.err((error as Error).stack ?? '')
    return 1
  }
}
