/** test/fixtures/apply-expand.ts as a child process, for tests that kill it part-way. */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TestDatabase } from './test-database.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/apply-expand.ts', import.meta.url))

export interface FixtureProcess {
  child: ChildProcess
  exited: Promise<number | null>
  output(): string
}

/** Applies the expand part of the scripts in `migrations` to the test's schema, with its journal. */
export function spawnApplyExpand(test: TestDatabase, migrations: string, extraEnv: NodeJS.ProcessEnv = {}): FixtureProcess {
  const env = { ...process.env, HANDOVER_FIXTURE_SCHEMA: test.schema, HANDOVER_FIXTURE_JOURNAL: test.journalSchema, HANDOVER_FIXTURE_MIGRATIONS: migrations, ...extraEnv }
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, exited, output: () => output }
}
