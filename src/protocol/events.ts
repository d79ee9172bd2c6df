/**
 * The one event stream of an upgrade run. The CLI renders it, the journal records it and
 * the agent turns it into metrics: three subscribers, one source.
 */
export type RunResult = 'succeeded' | 'rolled_back' | 'failed'

interface EventBase {
  service: string
  runId: string
}

export interface RunStartedEvent extends EventBase {
  type: 'run-started'
  fromVersion: string
  toVersion: string
  mode: 'strict'
}

export interface PhaseStartedEvent extends EventBase {
  type: 'phase-started'
  phase: string
}

export interface PhaseCompletedEvent extends EventBase {
  type: 'phase-completed'
  phase: string
  durationSeconds: number
}

export interface PhaseFailedEvent extends EventBase {
  type: 'phase-failed'
  phase: string
  durationSeconds: number
  errorCode: string
  errorMessage: string
}

export interface PhaseUndoStartedEvent extends EventBase {
  type: 'phase-undo-started'
  phase: string
}

export interface PhaseUndoneEvent extends EventBase {
  type: 'phase-undone'
  phase: string
  durationSeconds: number
  ok: boolean
  errorCode?: string
  errorMessage?: string
}

export interface RunFinishedEvent extends EventBase {
  type: 'run-finished'
  result: RunResult
  durationSeconds: number
}

export type UpgradeEvent =
  | RunStartedEvent
  | PhaseStartedEvent
  | PhaseCompletedEvent
  | PhaseFailedEvent
  | PhaseUndoStartedEvent
  | PhaseUndoneEvent
  | RunFinishedEvent

export type UpgradeEventListener = (event: UpgradeEvent) => void | Promise<void>
