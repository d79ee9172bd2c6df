import t from 'tap'
import { InvalidInputError } from '../../../src/errors.js'
import { compareVersions, formatVersion, parseVersion } from '../../../src/db/migrations/versions/version.js'

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

t.test('pre-releases sort below their release, in the scheme order, then by number', async (t) => {
  const ordered = ['3.9.9', '4.0.0-alpha-1', '4.0.0-alpha-2', '4.0.0-beta-1', '4.0.0-M3', '4.0.0-RC1', '4.0.0', '4.0.0.1', '4.0.1-alpha', '4.0.1']
  const versions = ordered.map((text) => parseVersion(text, 'test'))
  for (let i = 1; i < versions.length; i++) t.equal(compareVersions(versions[i - 1]!, versions[i]!), -1, `${ordered[i - 1]} < ${ordered[i]}`)
  t.equal(compareVersions(parseVersion('4.0.0-GA', 'test'), parseVersion('4.0.0', 'test')), 0, 'GA is the release itself')
  t.equal(compareVersions(parseVersion('4.2.8.RELEASE', 'test'), parseVersion('4.2.8', 'test')), 0, 'so is .RELEASE')
  t.equal(compareVersions(parseVersion('4.0.0-alpha', 'test'), parseVersion('4.0.0-alpha-0', 'test')), 0, 'no number is number 0')
  t.equal(formatVersion(parseVersion('4.0.0-beta-2', 'test')), '4.0.0-beta-2', 'a pre-release reads back with its qualifier')
})

t.test('a configured scheme decides the qualifiers; an unknown one is refused naming where and what to configure', async (t) => {
  const scheme = { preReleases: ['snapshot', 'preview'], releases: ['stable'] }
  t.equal(compareVersions(parseVersion('2.0-snapshot1', 'test', scheme), parseVersion('2.0-preview1', 'test', scheme)), -1)
  t.equal(compareVersions(parseVersion('2.0-stable', 'test', scheme), parseVersion('2.0', 'test', scheme)), 0)
  t.throws(() => parseVersion('2.0-alpha1', 'v2.0-alpha1.sql', scheme), { name: 'InvalidInputError', message: /v2\.0-alpha1\.sql: "2\.0-alpha1": the qualifier alpha is neither a pre-release \(snapshot, preview\) nor a release \(stable\); list it in migrations\.versions/ })
})
