import t from 'tap'
import { COMMANDS } from '../../src/cli/command-list.js'
import { helpText, main } from '../../src/cli/main.js'
import type { Output } from '../../src/cli/command.js'
import { EXIT } from '../../src/cli/exit-codes.js'

function capture(): Output & { lines: string[]; errors: string[] } {
  const lines: string[] = []
  const errors: string[] = []
  return { lines, errors, out: (line) => lines.push(line), err: (line) => errors.push(line) }
}

t.test('--help lists every command', async (t) => {
  const output = capture()
  t.equal(await main(['--help'], output), 0)
  t.equal(COMMANDS.length, 12)
  for (const { name } of COMMANDS) t.match(output.lines.join('\n'), new RegExp(`^  ${name} `, 'm'), name)
  t.equal(output.lines.join('\n'), helpText())
})

t.test('--help documents the exit codes from the one module that defines them', async (t) => {
  const output = capture()
  await main(['--help'], output)
  const help = output.lines.join('\n')
  for (const [name, code] of Object.entries(EXIT)) t.match(help, new RegExp(`^  ${code}  \\S`, 'm'), `exit code ${code} (${name}) is listed`)
  t.match(help, /\(status, plan,\s+history, schedule list, backup list\) print one JSON object with --json/, 'and which reading commands take --json')
})

t.test('every command that reads takes --json', async (t) => {
  for (const name of ['status', 'plan', 'history', 'schedule', 'backup']) {
    const output = capture()
    await main([name, '--help'], output)
    t.match(output.lines.join('\n'), /--json/, `${name} --help names --json`)
  }
})

t.test('a bad --limit for history is refused before anything connects', async (t) => {
  const output = capture()
  t.equal(await main(['history', '--config', '/nonexistent.yaml', '--limit', '0'], output), EXIT.USAGE)
  t.match(output.errors.join('\n'), /--limit: must be a whole number from 1 to 1000, got "0"/)
})

t.test('each command loads its own module: its --help is its own usage', async (t) => {
  for (const { name } of COMMANDS) {
    const output = capture()
    t.equal(await main([name, '--help'], output), 0)
    t.match(output.lines.join('\n'), new RegExp(`^handover ${name}( |$)`), `${name} usage`)
  }
})

t.test('an unknown command exits 2 and shows the commands', async (t) => {
  const output = capture()
  t.equal(await main(['upgarde'], output), 2)
  t.match(output.errors.join('\n'), /unknown command "upgarde"/)
})

t.test('bad arguments are named, and nothing runs', async (t) => {
  const unknown = capture()
  t.equal(await main(['upgrade', '--config', 'x.yaml', '--imgae', 'a:1'], unknown), 2)
  t.match(unknown.errors.join('\n'), /\[INVALID_INPUT\] handover upgrade: Unknown option '--imgae'/)

  const missing = capture()
  t.equal(await main(['deploy', '--image', 'a:1'], missing), 2)
  t.match(missing.errors.join('\n'), /--config is required/)

  const noFile = capture()
  t.equal(await main(['status', '--config', '/nonexistent/handover.yaml'], noFile), 2)
  t.match(noFile.errors.join('\n'), /\/nonexistent\/handover\.yaml: cannot read config file \(ENOENT\)/)
})

t.test('a bad --standby is refused before anything connects', async (t) => {
  const output = capture()
  const config = new URL('../../deploy/demo/handover.yaml', import.meta.url).pathname
  t.equal(await main(['upgrade', '--config', config, '--image', 'x:1', '--standby', 'red'], output), 2)
  t.match(output.errors.join('\n'), /--standby: must be blue or green/)
})

t.test('a bad --metrics address for the agent is refused', async (t) => {
  const output = capture()
  t.equal(await main(['agent', '--metrics', 'nowhere'], output), 2)
  t.match(output.errors.join('\n'), /--metrics: must be host:port/)
})
