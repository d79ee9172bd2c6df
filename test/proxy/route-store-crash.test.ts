/**
 * The route table is replaced whole or not at all: written to a temp file, synced, renamed
 * over the old one. A process killed between the write and the rename leaves the old table
 * readable; a table written in place would be new, torn or empty instead.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, statSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RouteStore } from '../../src/proxy/routing/route-store.js'
import { route } from './fixtures/agent.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/save-routes-then-crash.ts', import.meta.url))

t.test('a crash between writing the new table and renaming it leaves the old table intact', async (t) => {
  const dir = t.testdir({})
  const path = join(dir, 'routes.json')
  const old = [route('old', { blue: 9001, green: 9002 }, { blue: 'active', green: 'disabled' })]
  await new RouteStore(path).save(old)

  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, path], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
  t.same([code, signal], [null, 'SIGKILL'], 'the saving process died at the rename', { output })

  t.same(await new RouteStore(path).load(), old, 'the old table loads, whole')
  const temps = readdirSync(dir).filter((name) => name.endsWith('.tmp'))
  t.equal(temps.length, 1, 'the new table was written to a temp file beside it')
  const temp = await new RouteStore(join(dir, temps[0]!)).load()
  t.equal(temp.length, 200, 'complete and synced before the rename was attempted')
})

t.test('every save replaces the file by a rename: a reader holding the old file keeps reading the whole old table', async (t) => {
  const dir = t.testdir({})
  const path = join(dir, 'routes.json')
  const store = new RouteStore(path)
  await store.save([route('first', { blue: 9001, green: 9002 })])
  const before = statSync(path)
  const reader = await open(path, 'r')
  t.teardown(() => reader.close())
  await store.save(Array.from({ length: 50 }, (_, i) => route(`second-${i}`, { blue: 10000 + i, green: 11000 + i })))
  t.not(statSync(path).ino, before.ino, 'a new file took the name')
  t.equal(statSync(path).mode & 0o777, 0o600, 'readable by the agent only')
  const oldText = await reader.readFile('utf8')
  t.match(JSON.parse(oldText), { version: 1, services: [{ name: 'first' }] }, 'the old file was never written into')
  t.same(readdirSync(dir), ['routes.json'], 'no temp file is left after a save')
})
