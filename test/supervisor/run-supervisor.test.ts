/**
 * The supervisor's decisions with a clock and a launcher the test drives: when a lease lapses
 * it launches exactly one resume, a renewal keeps it from doing so, a takeover that ends
 * without finishing the run is tried again after a fresh lease, and after MAX_TAKEOVERS it
 * gives up and says so. The watched runs survive a restart (a real file).
 */
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { MAX_TAKEOVERS, RunSupervisor } from '../../src/supervisor/run-supervisor.js'
import type { LaunchedCommand } from '../../src/supervisor/launch-handover.js'

/**
 * A state directory removed only after the supervisor's last save has settled (tap's own
 * testdir can be removed first, while a save still writes into it).
 */
function stateDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'run-supervisor-'))
  t.teardown(async () => {
    for (const supervisor of supervisors.splice(0)) await supervisor.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

const supervisors: RunSupervisor[] = []

const LEASE = { service: 'shop', runId: 'run-1', configFile: '/etc/handover/shop.yaml', cwd: '/srv', leaseSeconds: 3 }

function harness(stateDir: string, holding = false) {
  let now = 1_000_000
  const launched: { args: readonly string[]; end: (code: number | null) => void }[] = []
  const lines: Record<string, unknown>[] = []
  const registry = new Registry()
  const supervisor: RunSupervisor = new RunSupervisor({
    stateDir,
    registry,
    log: (line) => lines.push(line as Record<string, unknown>),
    now: () => now,
    holding: () => holding,
    launch: (args): LaunchedCommand => {
      let end!: (code: number | null) => void
      const exited = new Promise<number | null>((resolve) => (end = resolve))
      launched.push({ args, end })
      return { pid: 4000 + launched.length, exited }
    },
  })
  supervisors.push(supervisor)
  return { supervisor, launched, lines, registry, advance: (ms: number) => (now += ms) }
}

t.test('a lapsed lease launches one resume of that run; renewals keep it from launching', async (t) => {
  const h = harness(stateDir(t))
  await h.supervisor.start()
  await h.supervisor.renew(LEASE)
  t.match(await h.registry.metrics(), /handover_run_takeovers_total\{service="shop",outcome="gave-up"\} 0/, 'the first watched run creates the give-up series at 0, so increase() sees a first give-up')
  h.advance(2900)
  h.supervisor.tick()
  t.equal(h.launched.length, 0, 'within the lease nothing is launched')
  await h.supervisor.renew(LEASE)
  h.advance(2900)
  h.supervisor.tick()
  t.equal(h.launched.length, 0, 'a renewal starts a new lease')
  h.advance(200)
  h.supervisor.tick()
  h.supervisor.tick()
  t.equal(h.launched.length, 1, 'past the lease: one resume, not one per tick')
  t.same(h.launched[0]!.args, ['resume', '--config', '/etc/handover/shop.yaml', '--run', 'run-1'])
  t.equal(h.supervisor.list()[0]!.state, 'taking-over')
  t.match(h.lines.at(-1), { level: 'warn', runId: 'run-1', silentForMs: 3100 })

  // The resume renews the lease while it runs, then finishes the run and ends the watch.
  await h.supervisor.renew(LEASE)
  t.equal(h.supervisor.list()[0]!.state, 'taking-over', 'a renewal by the resume keeps the takeover on record')
  t.equal(await h.supervisor.finish('run-1'), true)
  h.launched[0]!.end(0)
  await new Promise((resolve) => setImmediate(resolve))
  t.same(h.supervisor.list(), [])
  t.match(await h.registry.metrics(), /handover_run_takeovers_total\{service="shop",outcome="finished"\} 1/)
})

t.test('a takeover that ends without finishing is tried again after a fresh lease, then given up', async (t) => {
  const h = harness(stateDir(t))
  await h.supervisor.start()
  await h.supervisor.renew(LEASE)
  for (let attempt = 1; attempt <= MAX_TAKEOVERS; attempt++) {
    h.advance(3001)
    h.supervisor.tick()
    t.equal(h.launched.length, attempt, `takeover ${attempt} launched`)
    h.launched[attempt - 1]!.end(1)
    await new Promise((resolve) => setImmediate(resolve))
    t.equal(h.supervisor.list()[0]!.lastExit, 1)
    h.advance(1000)
    h.supervisor.tick()
    t.equal(h.launched.length, attempt, 'not again before a whole lease has passed')
  }
  h.advance(3001)
  h.supervisor.tick()
  t.equal(h.launched.length, MAX_TAKEOVERS, 'no more takeovers')
  t.equal(h.supervisor.list()[0]!.state, 'gave-up')
  t.match(h.lines.at(-1), { level: 'error', msg: 'run takeover given up', runId: 'run-1' })
  t.match(await h.registry.metrics(), /outcome="gave-up"\} 1/)
})

t.test('a restarted agent watches the runs it watched, with a full lease for a runner still alive', async (t) => {
  const dir = stateDir(t)
  const first = harness(dir)
  await first.supervisor.start()
  await first.supervisor.renew(LEASE)
  await first.supervisor.stop()

  const second = harness(dir)
  await second.supervisor.start()
  t.same(second.supervisor.list().map((run) => [run.runId, run.state]), [['run-1', 'leased']], 'the run is watched again')
  second.advance(2500)
  second.supervisor.tick()
  t.equal(second.launched.length, 0, 'the runner gets a whole lease to renew')
  second.advance(600)
  second.supervisor.tick()
  t.equal(second.launched.length, 1, 'and is resumed when it does not')
})

t.test('while the service holds requests a lapse of 1.5 s is enough', async (t) => {
  const h = harness(stateDir(t), true)
  await h.supervisor.start()
  await h.supervisor.renew(LEASE)
  h.advance(1400)
  h.supervisor.tick()
  t.equal(h.launched.length, 0, 'within 1.5 s nothing is launched')
  h.advance(200)
  h.supervisor.tick()
  t.equal(h.launched.length, 1, 'past 1.5 s the run is resumed, not after the 3 s lease')
})

t.test('a takeover refused because the runner still renews does not count towards giving up', async (t) => {
  const h = harness(stateDir(t))
  await h.supervisor.start()
  await h.supervisor.renew({ ...LEASE, holderPid: 777 })
  for (let attempt = 1; attempt <= MAX_TAKEOVERS + 2; attempt++) {
    h.advance(3001)
    h.supervisor.tick()
    // The runner was only slow: it renews while the takeover is refused.
    await h.supervisor.renew({ ...LEASE, holderPid: 777 })
    h.launched.at(-1)!.end(1)
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.equal(h.launched.length, MAX_TAKEOVERS + 2, 'each lapse was tried')
  t.equal(h.supervisor.list()[0]!.state, 'leased', 'and the agent never gave up on a live runner')
})
