import t from 'tap'
import { readFileSync } from 'node:fs'
import { InvalidInputError } from '../../src/errors.js'
import { loadConfig, parseConfig } from '../../src/config/load-config.js'

const demoConfig = new URL('../../deploy/demo/handover.yaml', import.meta.url).pathname
const exampleConfig = new URL('../../deploy/handover.example.yaml', import.meta.url).pathname

t.test('the shipped configs load', async (t) => {
  const demo = loadConfig(demoConfig)
  t.equal(demo.service.name, 'demo')
  t.same(demo.proxy.listen, { host: '127.0.0.1', port: 18080 })
  t.same(demo.service.secretEnv.DB_PASSWORD, { fromEnv: 'HANDOVER_DB_PASSWORD' })
  t.equal(demo.service.env.DB_PORT, '3306', 'numbers become env strings')
  t.match(demo.migrations.dir, /deploy\/demo\/migrations$/, 'relative to the config file')
  t.same(demo.proxy.trustedForwarders, [], 'no forwarder is trusted unless listed')
  const example = loadConfig(exampleConfig)
  t.equal(example.service.name.length > 0, true)
})

function errorFor(yaml: string): InvalidInputError {
  try {
    parseConfig(yaml, '/etc/handover/x.yaml')
  } catch (error) {
    if (error instanceof InvalidInputError) return error
    throw error
  }
  throw new Error('expected an InvalidInputError')
}

const valid = readFileSync(demoConfig, 'utf8')

t.test('errors name the file, the line and the field', async (t) => {
  const bad = valid.replace('green: { port: 18082 }', 'green: { port: 70000 }')
  const error = errorFor(bad)
  t.match(error.message, /^\/etc\/handover\/x\.yaml:\d+: service\.slots\.green\.port: must be an integer from 1 to 65535$/)
  const line = bad.split('\n').findIndex((text) => text.includes('70000')) + 1
  t.equal(error.where, `/etc/handover/x.yaml:${line}: service.slots.green.port`)
})

t.test('a typo in a key is refused, not ignored', async (t) => {
  t.match(errorFor(valid.replace('versionPath:', 'versionPth:')).message, /service\.versionPth: unknown key/)
})

t.test('a password written into the file is refused', async (t) => {
  const error = errorFor(valid.replace('password: { fromEnv: HANDOVER_DB_PASSWORD }', 'password: hunter2'))
  t.match(error.message, /database\.password/)
  t.notMatch(error.message, /hunter2/)
})

t.test('missing required fields are named', async (t) => {
  t.match(errorFor('service:\n  name: x\n').message, /service\.slots\.blue\.port: is required/)
})

t.test('invalid YAML names the line', async (t) => {
  t.match(errorFor('service:\n  name: [x\n').message, /^\/etc\/handover\/x\.yaml:\d+: not valid YAML/)
})

t.test('same port on both slots is refused', async (t) => {
  t.match(errorFor(valid.replace('18082', '18081')).message, /service\.slots\.green\.port: must differ/)
})

t.test('trusted forwarders: a list of addresses or CIDR blocks, a bad entry named by its index and line', async (t) => {
  const withForwarders = (list: string) => valid.replace(/^proxy:\n/m, `proxy:\n  trustedForwarders: ${list}\n`)
  t.same(parseConfig(withForwarders('[10.0.0.0/8, "2001:db8::/32"]'), '/etc/handover/x.yaml').proxy.trustedForwarders, ['10.0.0.0/8', '2001:db8::/32'])
  t.match(errorFor(withForwarders('[10.0.0.0/8, lb.internal]')).message, /^\/etc\/handover\/x\.yaml:\d+: proxy\.trustedForwarders\.1: must be an IP address or a CIDR block/)
  t.match(errorFor(withForwarders('10.0.0.0/8')).message, /proxy\.trustedForwarders: must be a list/)
})

t.test('phase timeouts: defaults follow what a phase waits for; the example documents every key', async (t) => {
  const demo = parseConfig(valid, '/etc/handover/x.yaml')
  const { drainTimeoutSeconds } = demo.proxy
  const { stopTimeoutSeconds, healthTimeoutSeconds } = demo.service
  t.equal(demo.timeouts.phases['disable-standby'], drainTimeoutSeconds + 30)
  t.equal(demo.timeouts.phases.flip, drainTimeoutSeconds + stopTimeoutSeconds + 30)
  t.equal(demo.timeouts.phases['upgrade-old'], healthTimeoutSeconds + 60)
  t.equal(demo.timeouts.cancelGraceSeconds, 30)
  const example = loadConfig(exampleConfig)
  const written = readFileSync(exampleConfig, 'utf8')
  t.equal(example.timeouts.cancelGraceSeconds, 40, 'the example service stops in 30 s: the grace defaults above it')
  t.match(written, /\n  cancelGraceSeconds: 40\b/)
  for (const [phase, seconds] of Object.entries(example.timeouts.phases)) {
    t.match(written, new RegExp(`\\n  ${phase}: ${seconds}\\b`), `the example lists ${phase} with its default`)
  }
  const set = parseConfig(`${valid}\ntimeouts:\n  expand: 7200\n  cancelGraceSeconds: 25\n`, '/etc/handover/x.yaml')
  t.same([set.timeouts.phases.expand, set.timeouts.cancelGraceSeconds, set.timeouts.phases.contract], [7200, 25, 3600])
})

t.test('a phase timeout shorter than what the phase waits for, or an unknown phase, is refused by name', async (t) => {
  const short = errorFor(`${valid}\ntimeouts:\n  flip: 10\n`)
  t.match(short.message, /:\d+: timeouts\.flip: must be at least \d+: it drains \(up to \d+s\) and then stops the old slot/)
  const unknown = errorFor(`${valid}\ntimeouts:\n  expnad: 10\n`)
  t.match(unknown.message, /timeouts\.expnad: unknown key \(expected one of: preflight, backup, disable-standby/)
  t.match(errorFor(`${valid}\ntimeouts:\n  verify: 0\n`).message, /timeouts\.verify: must be an integer from 1 to/)
  t.match(errorFor(`${valid}\ntimeouts:\n  cancelGraceSeconds: 5\n`).message, /timeouts\.cancelGraceSeconds: must be more than service\.stopTimeoutSeconds \(20\)/)
})

t.test('backfill tuning: defaults, the example values, and a value out of range named by field', async (t) => {
  t.same(loadConfig(demoConfig).migrations.backfill, { chunkRows: 500, chunkTargetMs: 20, maxThreadsRunning: 32, pauseRatio: 0.5 }, 'the defaults')
  const tuned = parseConfig(valid.replace('  dir: migrations', '  dir: migrations\n  backfill: { chunkTargetMs: 50, pausePercent: 0 }'), '/etc/handover/x.yaml')
  t.same([tuned.migrations.backfill.chunkTargetMs, tuned.migrations.backfill.pauseRatio], [50, 0], 'set values are taken')
  t.match(errorFor(valid.replace('  dir: migrations', '  dir: migrations\n  backfill: { chunkRows: 10 }')).message, /migrations\.backfill\.chunkRows: must be an integer from 50 to 2000/)
  t.match(errorFor(valid.replace('  dir: migrations', '  dir: migrations\n  backfill: { chunk: 10 }')).message, /migrations\.backfill\.chunk: unknown key/)
})
