import type { SqlStatement } from '../migrations/scripts/sql-statements.js'
import type { Kind } from './kinds.js'

/** `expand` runs while the old version serves; `contract` runs while nothing writes. */
export type Part = 'expand' | 'contract'

/**
 * A schema object or data a statement reads or changes, for the dependency checks of the
 * split. `table` is the bare name (no database). Without column, index or rows it means
 * the whole table; `rows` means the table's set of rows (what DML reads and writes).
 */
export interface ObjectRef {
  table: string
  column?: string
  index?: string
  rows?: true
}

/** The class of one change a statement makes: one clause of an ALTER, or the whole statement. */
export interface ClassifiedClause {
  kind: Kind
  part: Part
  /** What the clause does and why that makes it expand or contract. */
  reason: string
  table: string
  database?: string
  column?: string
  index?: string
  /** The new name of a renamed column or table. */
  newName?: string
  /**
   * The server may change stored values in place (rounding, another type) rather than refuse
   * them, even in strict mode: putting the old definition back would not bring them back.
   */
  valuesMayChange?: true
  /** Everything the clause reads or changes. */
  touches: ObjectRef[]
  /** What the clause changes (a subset of touches). */
  writes: ObjectRef[]
  /**
   * Columns whose definition it sets whole (MODIFY, CHANGE) even where their values stay:
   * of two such statements on one column, the later one's definition must win.
   */
  redefines?: ObjectRef[]
}

export interface ClassifiedStatement {
  statement: SqlStatement
  part: Part
  /**
   * The kind of every clause when they agree; `alter-table` for an ALTER mixing kinds of one
   * part; `marked` for a statement the parser cannot read that a marker put in its part.
   */
  kind: Kind | 'alter-table' | 'marked'
  reason: string
  clauses: ClassifiedClause[]
  touches: ObjectRef[]
  writes: ObjectRef[]
  /** Every clause's `redefines`. */
  redefines?: ObjectRef[]
  /** Structured facts of a single-object statement, for the executor (soft contract, renames). */
  table?: string
  database?: string
  column?: string
  index?: string
  newName?: string
  /** SQL that reverses an expand statement, when it can be derived. */
  undo?: string
  /** Why `undo` is absent: nothing to reverse, or it cannot be derived safely. */
  undoNote?: string
  /** A backfill to run again in contract, for the rows the old version wrote since expand. */
  catchUp?: boolean
  /** Something the author should know that does not stop the script (lint reports it). */
  warning?: string
  /** The part a `-- handover:` marker gave it, when that decided the part. */
  marked?: Part
  /** Every clause's change is harmless to keep or removed with what it depends on: no undo needed. */
  nothingToUndo?: true
  /**
   * An expand statement that runs in the contract instead, after the contract statement on
   * this line (of `deferredIn`, when another script of the chain) that it depends on.
   */
  deferredBy?: number
  deferredIn?: string
}

/** A column as the live schema has it: `type` as information_schema's COLUMN_TYPE gives it. */
export interface ColumnModel {
  type: string
  nullable: boolean
  hasDefault: boolean
  charset?: string
  collation?: string
  /** The server fills it (AUTO_INCREMENT): an insert of the old version may leave it out. */
  autoIncrement?: boolean
  /** Part of the primary key: the server keeps it NOT NULL whatever a MODIFY says. */
  primaryKey?: boolean
}

/**
 * The current schema, every table of it: a table not listed does not exist. Column names
 * are matched without regard to case, like MySQL does.
 */
export interface SchemaModel {
  tables: Record<string, Record<string, ColumnModel>>
  /** Each table's indexes (PRIMARY included), when known: the name the server gives an unnamed key depends on them. */
  indexes?: Record<string, IndexModel[]>
}

/** An index as the server has it: `length` is a column's prefix length, absent for the whole column. */
export interface IndexModel {
  name: string
  unique: boolean
  columns: { column: string; length?: number }[]
}

/** A statement of a script, with the part a `-- handover:` marker put it in, if any. */
export interface ScriptStatement extends SqlStatement {
  marked?: Part
}

export interface ClassifyOptions {
  /** The script, for error messages (`file:line`). */
  file?: string
  schema?: SchemaModel
  /**
   * The schema as the statements before this script left it (an earlier script of the same
   * chain); taken instead of `schema` and changed in place, so the next script sees this one's changes.
   */
  state?: import('./schema-state.js').SchemaState
}
