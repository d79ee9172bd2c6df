/**
 * The one event stream of an upgrade run. The CLI renders it, the journal records it and
 * the agent turns it into metrics: three subscribers, one source.
 *
 * The table below is the only list of event types and their fields. The TypeScript types
 * are derived from it, and so is the agent's validator (event-schema.ts), so an event the
 * runner emits cannot be missing from what the agent accepts: a list kept twice drifted
 * once, and the agent refused every rollback event with 400.
 */

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
}
export type EventFieldKind = keyof EventFieldTypes

/** A field spec: its kind, with a trailing `?` when the field may be absent. */
type FieldSpec = EventFieldKind | `${EventFieldKind}?`

export const UPGRADE_EVENTS = {
  'run-started': { fromVersion: 'version', toVersion: 'version', mode: 'mode' },
  'phase-started': { phase: 'phase' },
  'phase-completed': { phase: 'phase', durationSeconds: 'seconds' },
  'phase-failed': { phase: 'phase', durationSeconds: 'seconds', errorCode: 'code', errorMessage: 'message' },
  'phase-undo-started': { phase: 'phase' },
  'phase-undone': { phase: 'phase', durationSeconds: 'seconds', ok: 'flag', errorCode: 'code?', errorMessage: 'message?' },
  'run-finished': { result: 'result', durationSeconds: 'seconds' },
} as const satisfies Record<string, Record<string, FieldSpec>>

export type UpgradeEventType = keyof typeof UPGRADE_EVENTS
export const UPGRADE_EVENT_TYPES = Object.keys(UPGRADE_EVENTS) as UpgradeEventType[]

type RequiredFields<S> = { -readonly [K in keyof S as S[K] extends EventFieldKind ? K : never]: EventFieldTypes[S[K] & EventFieldKind] }
type OptionalFields<S> = { -readonly [K in keyof S as S[K] extends `${infer Kind}?` ? (Kind extends EventFieldKind ? K : never) : never]?: S[K] extends `${infer Kind extends EventFieldKind}?` ? EventFieldTypes[Kind] : never }

/** The event of one type: the fields every event carries, and those its table row lists. */
export type UpgradeEventOf<T extends UpgradeEventType> = { type: T; service: string; runId: string } & RequiredFields<(typeof UPGRADE_EVENTS)[T]> & OptionalFields<(typeof UPGRADE_EVENTS)[T]>

export type UpgradeEvent = { [T in UpgradeEventType]: UpgradeEventOf<T> }[UpgradeEventType]

export type UpgradeEventListener = (event: UpgradeEvent) => void | Promise<void>
