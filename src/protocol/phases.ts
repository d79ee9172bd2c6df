/**
 * The names of an upgrade's phases: what events, the journal, metrics labels and the
 * config's `timeouts:` keys call them. Their order is defined once, by the runner's list
 * (upgrade/run/strict-phases.ts); this is only the vocabulary.
 */
export const PHASE_NAMES = [
  'preflight',
  'backup',
  'disable-standby',
  'upgrade-standby',
  'expand',
  'flip',
  'contract',
  'upgrade-old',
  'verify',
  'finalize',
] as const
export type PhaseName = (typeof PHASE_NAMES)[number]
