import t from 'tap'
import type { Output } from '../../src/cli/command.js'
import { LiveProgress } from '../../src/cli/live-progress.js'
import type { UpgradeEvent } from '../../src/protocol/events.js'

const PHASES = ['preflight', 'flip', 'contract']
const base = { service: 'shop', runId: 'r1' }

function terminal(isTTY: boolean): Output & { lines: string[]; writes: string[] } {
  const lines: string[] = []
  const writes: string[] = []
  return { lines, writes, isTTY, out: (line) => lines.push(line), err: (line) => lines.push(`ERR ${line}`), write: (text) => void writes.push(text) }
}

const waitFor = async (condition: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  if (!condition()) throw new Error(`timed out waiting for ${what}`)
}

t.test('on a terminal a status line shows the running phase, its elapsed time and held requests, redrawn in place', async (t) => {
  let now = 1_000_000
  const output = terminal(true)
  let polls = 0
  const progress = new LiveProgress({ output, phaseNames: PHASES, now: () => now, redrawMs: 5, heldRequests: async () => (polls++, 42) })
  t.teardown(() => progress.stop())
  progress.onEvent({ ...base, type: 'run-started', fromVersion: '1', toVersion: '2', mode: 'strict' })
  progress.onEvent({ ...base, type: 'phase-started', phase: 'flip' })
  now += 3_250
  await waitFor(() => output.writes.some((w) => w.includes('held 42')), 'a redraw with the held count')
  t.ok(polls >= 1, 'the held count is polled while a phase runs')
  const last = output.writes.filter((w) => w.includes('flip')).at(-1)!
  t.equal(last, '\r\x1b[2K  [ 2/3] flip 3.3s  (run 3.3s)  held 42', 'one line, cleared and redrawn, no newline')
  t.same(output.lines, ['upgrading shop 1 → 2 (run r1, strict mode)'], 'the status line is not a permanent line')

  progress.note('             contract v2.sql:3 2ms')
  t.equal(output.lines.at(-1), '             contract v2.sql:3 2ms', 'a note is a permanent line')
  progress.onEvent({ ...base, type: 'phase-completed', phase: 'flip', durationSeconds: 3.25 })
  t.match(output.lines.at(-1), /\[ 2\/3\] flip +3\.25s {2}ok/, 'the finished phase becomes a plain line')
  progress.onEvent({ ...base, type: 'run-finished', result: 'succeeded', durationSeconds: 4 })
  t.equal(output.writes.at(-1), '\r\x1b[2K', 'the status line is cleared at the end')
  const writesAfter = output.writes.length
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(output.writes.length, writesAfter, 'and no redraw follows')
})

t.test('when stdout is not a terminal, only plain lines: nothing is redrawn and nothing polled', async (t) => {
  const output = terminal(false)
  let polls = 0
  const progress = new LiveProgress({ output, phaseNames: PHASES, redrawMs: 5, heldRequests: async () => (polls++, 1) })
  t.teardown(() => progress.stop())
  const events: UpgradeEvent[] = [
    { ...base, type: 'run-started', fromVersion: '1', toVersion: '2', mode: 'strict' },
    { ...base, type: 'phase-started', phase: 'preflight' },
  ]
  for (const event of events) progress.onEvent(event)
  await new Promise((resolve) => setTimeout(resolve, 40))
  progress.onEvent({ ...base, type: 'phase-failed', phase: 'preflight', durationSeconds: 0.5, errorCode: 'X', errorMessage: 'no' })
  progress.onEvent({ ...base, type: 'run-finished', result: 'rolled_back', durationSeconds: 1 })
  t.same(output.writes, [], 'no raw writes')
  t.equal(polls, 0, 'no polling of the agent')
  t.same(output.lines.slice(1), ['  [ 1/3] preflight              0.50s  FAILED X', 'rolled back in 1.00s'])
})
