import { quoteName } from '../../migrations/scripts/sql-statements.js'
import type { Node, TableName } from '../ast.js'
import { KINDS, type Kind } from '../kinds.js'
import type { Modifiers } from '../mariadb-modifiers.js'
import type { SchemaState } from '../schema-state.js'
import type { ClassifiedClause, ObjectRef } from '../types.js'

export interface RuleContext {
  /** The schema before this statement; rules read it, effects change it afterwards. */
  state: SchemaState
  modifiers: Modifiers
  /** The parser's table and column lists of the statement (see ParsedStatement). */
  tables: string[]
  columns: string[]
}

/**
 * How to reverse an expand change: a whole statement, or a clause to put in an ALTER TABLE
 * on the same table (clauses are combined in reverse order); `none` when keeping the
 * change is harmless, `unknown` when it cannot be derived safely.
 */
export type Undo = { statement: string } | { clause: string } | { none: string } | { unknown: string }

export interface RuleResult {
  clause: ClassifiedClause
  undo?: Undo
  /** Something the author should know that does not stop the script (lint reports it). */
  warning?: string
  /** What the statement does to the schema, applied after every clause of it is classified. */
  effect?: (state: SchemaState) => void
  catchUp?: boolean
}

/** A rule for one kind of ALTER TABLE clause. */
export interface ClauseRule {
  matches(clause: Node): boolean
  classify(clause: Node, table: TableName, context: RuleContext): RuleResult
}

/** A rule for one kind of statement; it may yield several changes (DROP TABLE a, b). */
export interface StatementRule {
  matches(ast: Node): boolean
  classify(ast: Node, context: RuleContext): RuleResult[]
}

/** Thrown by a rule that knows the statement but has no class for it; the caller adds file and line. */
export class Refusal extends Error {}

export interface Target {
  table: TableName
  column?: string
  index?: string
  newName?: string
}

/** A classified clause whose reason is the fact, then the policy's why from KINDS. */
export function classified(kind: Kind, fact: string, target: Target, touches: ObjectRef[], writes: ObjectRef[]): ClassifiedClause {
  const clause: ClassifiedClause = {
    kind,
    part: KINDS[kind].part,
    reason: `${fact}: ${KINDS[kind].why}`,
    table: target.table.name,
    touches,
    writes,
  }
  if (target.table.database) clause.database = target.table.database
  if (target.column) clause.column = target.column
  if (target.index) clause.index = target.index
  if (target.newName) clause.newName = target.newName
  return clause
}

export function tableRef(table: TableName): ObjectRef {
  return { table: table.name }
}

export function columnRef(table: TableName, column: string): ObjectRef {
  return { table: table.name, column }
}

export function indexRef(table: TableName, index: string): ObjectRef {
  return { table: table.name, index }
}

export function rowsRef(table: TableName): ObjectRef {
  return { table: table.name, rows: true }
}

/** `db`.`t` or `t`, quoted for MySQL. */
export function quoteTable(table: TableName): string {
  return table.database ? `${quoteName(table.database)}.${quoteName(table.name)}` : quoteName(table.name)
}

export { quoteName }

/** `t.c` for messages. */
export function columnLabel(table: TableName, column: string): string {
  return `${table.name}.${column}`
}
