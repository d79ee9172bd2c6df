import { InvalidInputError } from '../../errors.js'

/** A dotted numeric version. Compared part by part as numbers: 5.10.1 > 5.9.2. */
export type Version = readonly number[]

const VERSION_PATTERN = /^v?(\d+(?:\.\d+)*)$/

export function parseVersion(text: string, where: string): Version {
  const match = VERSION_PATTERN.exec(text.trim())
  if (!match) throw new InvalidInputError(where, `"${text}" is not a version (expected digits and dots, e.g. 2 or 5.9.1)`)
  return match[1]!.split('.').map(Number)
}

export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0)
    if (difference !== 0) return Math.sign(difference)
  }
  return 0
}

export function formatVersion(version: Version): string {
  return version.join('.')
}
