/**
 * What a run's phases report as having happened: typed facts, not prose. Each is an upgrade
 * event (events.ts merges this table into the one vocabulary), so the CLI prints its lines
 * from them, the journal stores them and the agent counts them, all from one definition.
 * A fact carries numbers and names, never a value from a row or a request.
 */
import type { FieldSpec } from './events.js'

/** The parts of a migration script (db/migrations/scripts/script-parts.ts uses the same names). */
export const STATEMENT_PARTS = ['expand', 'contract', 'expand-undo', 'contract-undo'] as const
export type StatementPart = (typeof STATEMENT_PARTS)[number]

/** How the server ran an ALTER TABLE, cheapest first (db/ddl/alter-algorithm.ts asks it). */
export const STATEMENT_ALGORITHMS = ['INSTANT', 'NOCOPY', 'INPLACE', 'COPY'] as const
export type StatementAlgorithm = (typeof STATEMENT_ALGORITHMS)[number]

/** How a backfill keeps the old version's writes (db/capture/capture-plan.ts decides). */
export const CAPTURE_MODES = ['row-trigger', 'changed-keys', 'uncaptured'] as const
export type CaptureMode = (typeof CAPTURE_MODES)[number]

/**
 * What became of a statement: it ran; its table, rebuilt during the expand, was swapped in;
 * the capture of its backfill made it unnecessary; or its object was already in place (a run
 * cut off between the DDL's commit and its history row).
 */
export const STATEMENT_OUTCOMES = ['ran', 'swapped-in', 'replaced-by-capture', 'already-in-place'] as const
export type StatementOutcome = (typeof STATEMENT_OUTCOMES)[number]

export const UPGRADE_FACTS = {
  /** The scripts between the schema's version and the target, in the order they run. */
  'plan-made': { scripts: 'labels' },
  /** Every statement ran on a copy of the schema; `copying` names those the server copies a table for (script:line). */
  'rehearsal-passed': { statements: 'count', copying: 'labels' },
  /** A contract rebuild built beside its table during the expand and swapped in by the contract. */
  'rebuild-planned': { script: 'label', table: 'label' },
  /** How long the contract is expected to hold requests, and the statements that make it (script:line how table). */
  'hold-estimated': { seconds: 'seconds', statements: 'labels' },
  'backup-written': { file: 'label', bytes: 'count' },
  'statement-applied': {
    part: 'part',
    script: 'label',
    line: 'count',
    durationSeconds: 'seconds',
    outcome: 'outcome',
    algorithm: 'algorithm?',
    /** What the server reported as affected (rows changed by DML, rows copied by a rebuilding ALTER; 0 for an instant one). */
    rowsTouched: 'count?',
    capture: 'capture?',
    chunks: 'count?',
    longestChunkSeconds: 'seconds?',
    /** A resumed backfill: the chunks an earlier run of it had committed. */
    resumedAfterChunks: 'count?',
  },
  /** A contract's drop made a rename, kept until finalize (or the retention) so a rollback loses nothing. */
  'soft-drop-made': { script: 'label', table: 'label', column: 'label?', softName: 'label' },
  /** The capture around a part: keys replayed, triggers and change tables removed. */
  'capture-finished': { part: 'part', replayedRows: 'count', removed: 'count' },
  /** A table the expand rewrites (backfill, online rebuild) is bigger than the server's redo log: server-wide write stalls are likely. */
  'redo-log-small': { table: 'label', tableMib: 'count', redoLogMib: 'count' },
  /** A table copied beside itself during the expand, for the contract to swap in. */
  'table-rebuilt': { table: 'label', rows: 'count', chunks: 'count', longestChunkSeconds: 'seconds' },
  'container-replaced': { slot: 'slot', image: 'label', version: 'version' },
  /** The buffer is about to be released to the new version: from here v2 writes, and nothing is undone automatically. */
  'point-of-no-return-crossed': { slot: 'slot' },
  /** Held requests given to a slot, and how long the oldest of them waited. */
  'requests-released': { slot: 'slot', released: 'count', longestHoldSeconds: 'seconds' },
  /** Soft-dropped objects dropped for real (table, or table.column). */
  'soft-drops-purged': { names: 'labels' },
  /** Soft-dropped objects left in place for the retention (`handover migrate purge` drops them after it). */
  'soft-drops-kept': { retentionHours: 'count' },
} as const satisfies Record<string, Record<string, FieldSpec>>

export type UpgradeFactType = keyof typeof UPGRADE_FACTS
export const UPGRADE_FACT_TYPES = Object.keys(UPGRADE_FACTS) as UpgradeFactType[]
