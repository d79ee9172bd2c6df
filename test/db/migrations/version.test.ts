import t from 'tap'
import { InvalidInputError } from '../../../src/errors.js'
import { compareVersions, formatVersion, parseVersion } from '../../../src/db/migrations/version.js'

t.test('compares numerically, part by part', async (t) => {
  const v = (text: string) => parseVersion(text, 'test')
  t.equal(compareVersions(v('5.10.1'), v('5.9.2')), 1)
  t.equal(compareVersions(v('2'), v('2.0.0')), 0)
  t.equal(compareVersions(v('v1.2'), v('1.3')), -1)
  t.equal(formatVersion(v('v3.0.1')), '3.0.1')
})

t.test('refuses what is not a version, naming where it came from', async (t) => {
  t.throws(() => parseVersion('2.x', 'app_version.version'), InvalidInputError)
  t.throws(() => parseVersion('', '--version'), /--version/)
})
