/**
 * Nearest-rank quantiles: the q-quantile (0..1) is the smallest value that a share q of
 * the values do not exceed, always one of the values (no interpolation).
 */
export function quantileOfSorted(ascending: readonly number[], q: number): number {
  return ascending[Math.min(ascending.length - 1, Math.max(0, Math.ceil(q * ascending.length) - 1))]!
}

/** The same, of values in any order. */
export function quantile(values: readonly number[], q: number): number {
  return quantileOfSorted([...values].sort((a, b) => a - b), q)
}
