import { InvalidInputError } from '../../../errors.js'

/**
 * A version as numbers compared part by part: 5.10.1 > 5.9.2. A pre-release qualifier
 * (4.0.0-alpha-2, 1.6.0-RC1) becomes a negative part, its rank among the qualifiers minus
 * their count, followed by its own number: every pre-release of 4.0.0 sorts below 4.0.0,
 * alpha below beta below rc, alpha-1 below alpha-2. A release qualifier (4.0.0-GA,
 * 4.2.8.RELEASE) adds nothing: it is the release itself.
 */
export type Version = readonly number[]

/** How qualifiers order: `preReleases` lowest first, all below the release; `releases` name the release itself. */
export interface VersionScheme {
  preReleases: readonly string[]
  releases: readonly string[]
}

export const DEFAULT_VERSION_SCHEME: VersionScheme = {
  preReleases: ['alpha', 'a', 'beta', 'b', 'milestone', 'm', 'rc', 'cr'],
  releases: ['ga', 'final', 'release', 'r'],
}

const VERSION_PATTERN = /^v?(\d+(?:\.\d+)*)(?:[-.]?([A-Za-z]+)[-.]?(\d+)?)?$/

export function parseVersion(text: string, where: string, scheme: VersionScheme = DEFAULT_VERSION_SCHEME): Version {
  const match = VERSION_PATTERN.exec(text.trim())
  if (!match) throw new InvalidInputError(where, `"${text}" is not a version (expected digits and dots with an optional qualifier, e.g. 2, 5.9.1 or 4.0.0-beta-1)`)
  const parts = match[1]!.split('.').map(Number)
  const qualifier = match[2]?.toLowerCase()
  if (qualifier === undefined) return parts
  if (scheme.releases.includes(qualifier)) return match[3] === undefined ? parts : [...parts, 0, Number(match[3])]
  const rank = scheme.preReleases.indexOf(qualifier)
  if (rank === -1) {
    throw new InvalidInputError(where, `"${text}": the qualifier ${match[2]} is neither a pre-release (${scheme.preReleases.join(', ')}) nor a release (${scheme.releases.join(', ')}); list it in migrations.versions`)
  }
  return [...parts, rank - scheme.preReleases.length, Number(match[3] ?? 0)]
}

export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0)
    if (difference !== 0) return Math.sign(difference)
  }
  return 0
}

/** For messages and keys: a pre-release part reads back as its qualifier (4.0.0-alpha-2). */
export function formatVersion(version: Version, scheme: VersionScheme = DEFAULT_VERSION_SCHEME): string {
  const at = version.findIndex((part) => part < 0)
  if (at === -1) return version.join('.')
  const qualifier = scheme.preReleases[version[at]! + scheme.preReleases.length] ?? 'pre'
  return `${version.slice(0, at).join('.')}-${qualifier}-${version.slice(at + 1).join('.')}`
}
