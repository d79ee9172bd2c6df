/**
 * The one event stream of an upgrade run. The CLI renders it, the journal records it and
 * the agent turns it into metrics: three subscribers, one source.
 *
 * The table below (with the facts of upgrade-facts.ts) is the only list of event types and
 * their fields. The TypeScript types
 * are derived from it, and so is the agent's validator (event-schema.ts), so an event the
 * runner emits cannot be missing from what the agent accepts: a list kept twice drifted
 * once, and the agent refused every rollback event with 400.
 */

import { CAPTURE_MODES, STATEMENT_ALGORITHMS, STATEMENT_OUTCOMES, STATEMENT_PARTS, UPGRADE_FACTS, UPGRADE_FACT_TYPES, type CaptureMode, type StatementAlgorithm, type StatementOutcome, type StatementPart, type UpgradeFactType } from './upgrade-facts.js'
import type { SlotName } from './routes.js'

export { CAPTURE_MODES, STATEMENT_ALGORITHMS, STATEMENT_OUTCOMES, STATEMENT_PARTS }

export const RUN_RESULTS = ['succeeded', 'rolled_back', 'failed'] as const
export type RunResult = (typeof RUN_RESULTS)[number]

export const RUN_MODES = ['strict'] as const
export type RunMode = (typeof RUN_MODES)[number]

/** What each kind of field holds; event-schema.ts has one check per kind. */
export interface EventFieldTypes {
  /** A phase name: becomes a metric label value, so a short plain name. */
  phase: string
  version: string
  seconds: number
  flag: boolean
  /** A stable error code (HandoverError.code). */
  code: string
  /** An operator-facing error message (may be empty). */
  message: string
  result: RunResult
  mode: RunMode
  /** A whole number of things (rows, bytes, requests, a line number). */
  count: number
  slot: SlotName
  part: StatementPart
  algorithm: StatementAlgorithm
  capture: CaptureMode
  outcome: StatementOutcome
  /** A script, table, column, file or image name: shown and journaled, never a metric label. */
  label: string
  labels: string[]
}
export type EventFieldKind = keyof EventFieldTypes

/** A field spec: its kind, with a trailing `?` when the field may be absent. */
export type FieldSpec = EventFieldKind | `${EventFieldKind}?`

/** A run's lifecycle: where it is. The facts of what it did are in upgrade-facts.ts. */
const LIFECYCLE_EVENTS = {
  'run-started': { fromVersion: 'version', toVersion: 'version', mode: 'mode' },
  'phase-started': { phase: 'phase' },
  'phase-completed': { phase: 'phase', durationSeconds: 'seconds' },
  'phase-failed': { phase: 'phase', durationSeconds: 'seconds', errorCode: 'code', errorMessage: 'message' },
  'phase-undo-started': { phase: 'phase' },
  'phase-undone': { phase: 'phase', durationSeconds: 'seconds', ok: 'flag', errorCode: 'code?', errorMessage: 'message?' },
  'run-finished': { result: 'result', durationSeconds: 'seconds' },
} as const satisfies Record<string, Record<string, FieldSpec>>

export const UPGRADE_EVENTS = { ...LIFECYCLE_EVENTS, ...UPGRADE_FACTS } as const

export type UpgradeEventType = keyof typeof UPGRADE_EVENTS
export const UPGRADE_EVENT_TYPES = Object.keys(UPGRADE_EVENTS) as UpgradeEventType[]

type RequiredFields<S> = { -readonly [K in keyof S as S[K] extends EventFieldKind ? K : never]: EventFieldTypes[S[K] & EventFieldKind] }
type OptionalFields<S> = { -readonly [K in keyof S as S[K] extends `${infer Kind}?` ? (Kind extends EventFieldKind ? K : never) : never]?: S[K] extends `${infer Kind extends EventFieldKind}?` ? EventFieldTypes[Kind] : never }

/** The event of one type: the fields every event carries, and those its table row lists. */
export type UpgradeEventOf<T extends UpgradeEventType> = { type: T; service: string; runId: string } & RequiredFields<(typeof UPGRADE_EVENTS)[T]> & OptionalFields<(typeof UPGRADE_EVENTS)[T]>

export type UpgradeEvent = { [T in UpgradeEventType]: UpgradeEventOf<T> }[UpgradeEventType]

/** A fact a phase reports (upgrade-facts.ts), as an event. */
export type UpgradeFact = { [T in UpgradeFactType]: UpgradeEventOf<T> }[UpgradeFactType]

/** A fact as a phase gives it: the run fills in service and runId. */
export type UpgradeFactReport = UpgradeFact extends infer F ? (F extends UpgradeFact ? Omit<F, 'service' | 'runId'> : never) : never

const FACT_TYPES: ReadonlySet<string> = new Set(UPGRADE_FACT_TYPES)

export function isUpgradeFact(event: UpgradeEvent): event is UpgradeFact {
  return FACT_TYPES.has(event.type)
}

export type UpgradeEventListener = (event: UpgradeEvent) => void | Promise<void>
