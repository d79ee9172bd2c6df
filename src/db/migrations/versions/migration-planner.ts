import { HandoverError } from '../../../errors.js'
import type { MigrationScript } from '../scripts/migration-script.js'
import { compareVersions, formatVersion, type Version } from './version.js'

export class NoMigrationChainError extends HandoverError {
  readonly code = 'NO_MIGRATION_CHAIN'

  constructor(
    readonly from: string,
    readonly to: string,
    readonly reachedUpTo: string,
    readonly missingTo: string | undefined,
  ) {
    super(
      `no chain of migration scripts leads from ${from} to ${to}: ` +
        `the scripts reach ${reachedUpTo} at most, and nothing covers ${reachedUpTo} → ${missingTo ?? to}; ` +
        `add v${missingTo ?? to}.sql or a bundle v${reachedUpTo}-v${missingTo ?? to}.sql`,
    )
  }
}

/** One step of a plan: a script and the schema versions it moves between. */
export interface PlannedScript {
  script: MigrationScript
  from: Version
  to: Version
  /** For a bundle: the single scripts it stands in for. */
  replaces: MigrationScript[]
}

interface Edge {
  script: MigrationScript
  from: Version
  to: Version
}

/**
 * The chain with the fewest scripts from `current` to `target`. A single script (v5.9.1.sql)
 * moves the schema from the release below it to its own; a bundle (v2.8.1-v3.2.1.sql) from
 * its first version to its last. No step ever passes the target. A target no script names is
 * a release without schema changes: the chain ends at the last release named below it.
 */
export function planChain(scripts: readonly MigrationScript[], current: Version, target: Version): PlannedScript[] {
  if (compareVersions(current, target) >= 0) return []
  const releases = releasesOf(scripts, current)
  const edges = edgesOf(scripts, releases).filter((edge) => compareVersions(edge.to, target) <= 0)
  const end = releases.filter((release) => compareVersions(release, target) <= 0).pop()!
  const previous = shortestPaths(edges, current)
  const path: Edge[] = []
  for (let at = key(end); at !== key(current); ) {
    const edge = previous.get(at)
    if (!edge) throw noChain(edges, previous, current, end)
    path.unshift(edge)
    at = key(edge.from)
  }
  const singles = scripts.filter((script) => !script.bundleFrom)
  return path.map((edge) => ({ ...edge, replaces: edge.script.bundleFrom ? coveredSingles(singles, edge) : [] }))
}

/**
 * Every version a script names is a release, and so is the schema's current one (a release
 * that changed nothing in the schema has no script); ascending, one per version.
 */
function releasesOf(scripts: readonly MigrationScript[], current: Version): Version[] {
  const named = scripts.flatMap((script) => (script.bundleFrom ? [script.bundleFrom, script.version] : [script.version]))
  return uniqueSorted([[0], current, ...named])
}

/**
 * A single script starts from the release just below its own, so a release named only by a
 * bundle (v4.0-v5.9.1.sql) must be reached by some script too: otherwise that is a gap, and
 * the planner says so.
 */
function edgesOf(scripts: readonly MigrationScript[], releases: readonly Version[]): Edge[] {
  const below = (version: Version): Version => releases.filter((release) => compareVersions(release, version) < 0).pop() ?? [0]
  const edges: Edge[] = scripts.map((script) => ({ script, from: script.bundleFrom ?? below(script.version), to: script.version }))
  // Names decide between chains of equal length, so a plan never depends on directory order.
  return edges.sort((a, b) => a.script.name.localeCompare(b.script.name))
}

/** Breadth-first: the first edge to reach a version is on a shortest chain to it. */
function shortestPaths(edges: Edge[], start: Version): Map<string, Edge> {
  const previous = new Map<string, Edge>()
  const seen = new Set([key(start)])
  let frontier = [start]
  while (frontier.length > 0) {
    const next: Version[] = []
    for (const version of frontier) {
      for (const edge of edges) {
        if (compareVersions(edge.from, version) !== 0 || seen.has(key(edge.to))) continue
        seen.add(key(edge.to))
        previous.set(key(edge.to), edge)
        next.push(edge.to)
      }
    }
    frontier = next
  }
  return previous
}

/** Names the gap: the highest version reached, and the lowest version the target can be reached from. */
function noChain(edges: Edge[], previous: Map<string, Edge>, current: Version, target: Version): NoMigrationChainError {
  const reached = [current, ...[...previous.values()].map((edge) => edge.to)].sort(compareVersions)
  const highest = reached[reached.length - 1]!
  const above = edges.map((edge) => edge.from).filter((from) => compareVersions(from, highest) > 0).sort(compareVersions)
  return new NoMigrationChainError(formatVersion(current), formatVersion(target), formatVersion(highest), above[0] && formatVersion(above[0]))
}

function uniqueSorted(versions: Version[]): Version[] {
  const byKey = new Map(versions.map((version) => [key(version), version]))
  return [...byKey.values()].sort(compareVersions)
}

function coveredSingles(singles: MigrationScript[], edge: Edge): MigrationScript[] {
  return singles.filter((script) => compareVersions(script.version, edge.from) > 0 && compareVersions(script.version, edge.to) <= 0)
}

function key(version: Version): string {
  return formatVersion(version.length === 0 ? [0] : trimZeros(version))
}

/** 2 and 2.0.0 are one version. */
function trimZeros(version: Version): Version {
  let end = version.length
  while (end > 1 && version[end - 1] === 0) end--
  return version.slice(0, end)
}
