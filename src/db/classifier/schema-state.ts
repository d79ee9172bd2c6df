import { InvalidInputError } from '../../errors.js'
import type { ColumnType } from './column-type.js'
import { parseColumnType } from './parse.js'
import type { IndexModel, SchemaModel } from './types.js'

export interface ColumnState {
  name: string
  type: ColumnType
  nullable: boolean
  hasDefault: boolean
  /** Added by an earlier statement of this script (or its table was created by one). */
  added: boolean
  autoIncrement?: boolean
  primaryKey?: boolean
}

export interface TableState {
  name: string
  /** The columns known: all of them when `complete`, else only those this script added or changed. */
  columns: Map<string, ColumnState>
  complete: boolean
  /** Created by an earlier statement of the chain: the old version never uses it. */
  created: boolean
  /** Created by an earlier statement of this script: the undo of that CREATE removes every later change with it. */
  createdHere?: boolean
  /** By lower-case name; undefined when not known. */
  indexes?: Map<string, IndexModel>
}

/** What a lookup found: the column, or why there is none. */
export type ColumnLookup = { found: ColumnState } | { missing: string }

/**
 * The schema as a script sees it at one statement: the model given (if any), changed by the
 * statements before. `known` tells whether a table absent from it is absent for sure.
 */
export class SchemaState {
  known: boolean
  private readonly tables = new Map<string, TableState>()

  constructor(model?: SchemaModel) {
    this.known = model !== undefined
    for (const [table, columns] of Object.entries(model?.tables ?? {})) {
      const states = new Map<string, ColumnState>()
      for (const [column, spec] of Object.entries(columns)) {
        const type = parseModelType(table, column, spec.type)
        if (spec.charset) type.charset = spec.charset.toLowerCase()
        if (spec.collation) type.collation = spec.collation.toLowerCase()
        states.set(key(column), { name: column, type, nullable: spec.nullable, hasDefault: spec.hasDefault, added: false, ...(spec.autoIncrement ? { autoIncrement: true } : {}), ...(spec.primaryKey ? { primaryKey: true } : {}) })
      }
      const indexes = model?.indexes?.[table]
      this.tables.set(key(table), { name: table, columns: states, complete: true, created: false, ...(indexes ? { indexes: indexMap(indexes) } : {}) })
    }
  }

  /**
   * Where the next script of a chain starts: the same tables, but what this script added
   * counts as the schema's own (a backfill in a later script writes columns the old version
   * may not know, but they are not "added earlier in this script"). Tables created by the
   * chain stay created: the old version still never uses them.
   */
  nextScript(): void {
    for (const table of this.tables.values()) {
      for (const [name, column] of table.columns) if (column.added && !table.created) table.columns.set(name, { ...column, added: false })
      delete table.createdHere
    }
  }

  /** After a schema dump's CREATE TABLEs: what they made is the schema's own, not this chain's. */
  settle(): void {
    for (const [name, table] of this.tables) {
      for (const [column, state] of table.columns) table.columns.set(column, { ...state, added: false })
      const { createdHere: _createdHere, ...settled } = table
      this.tables.set(name, { ...settled, created: false })
    }
  }

  /**
   * The name MariaDB gives an unnamed key: its first column's name, or that name with _2,
   * _3, ... when taken. Undefined when the table's index names are not known.
   */
  serverIndexName(table: string, firstColumn: string): string | undefined {
    const indexes = this.table(table)?.indexes
    if (!indexes) return undefined
    if (!indexes.has(key(firstColumn))) return firstColumn
    for (let suffix = 2; suffix < 1000; suffix++) if (!indexes.has(key(`${firstColumn}_${suffix}`))) return `${firstColumn}_${suffix}`
    return undefined
  }

  /** The index, null when the table's indexes are known and it is not one of them, undefined when not known. */
  index(table: string, index: string): IndexModel | null | undefined {
    const indexes = this.table(table)?.indexes
    return indexes ? (indexes.get(key(index)) ?? null) : undefined
  }

  addIndex(table: string, index: IndexModel): void {
    this.table(table)?.indexes?.set(key(index.name), index)
  }

  dropIndex(table: string, index: string): void {
    this.table(table)?.indexes?.delete(key(index))
  }

  table(name: string): TableState | undefined {
    return this.tables.get(key(name))
  }

  /** True when the table is known not to exist. */
  tableAbsent(name: string): boolean {
    return this.known && !this.tables.has(key(name))
  }

  column(table: string, column: string): ColumnLookup {
    const state = this.table(table)
    if (!state) return { missing: this.known ? `table ${table} is not in the schema model` : `no schema model gives table ${table}` }
    const found = state.columns.get(key(column))
    if (found) return { found }
    return { missing: state.complete ? `${table}.${column} is not in the schema` : `the columns of ${table} are not known` }
  }

  /** True when the column was added by this script, so the old version cannot know it. */
  isAdded(table: string, column: string): boolean {
    const state = this.table(table)
    if (state?.created) return true
    return state?.columns.get(key(column))?.added ?? false
  }

  /** `columns` undefined: not known (CREATE TABLE ... LIKE a table the model does not give). */
  createTable(name: string, columns: ColumnState[] | undefined, indexes?: IndexModel[]): void {
    const map = new Map((columns ?? []).map((column) => [key(column.name), { ...column, added: true }]))
    this.tables.set(key(name), { name, columns: map, complete: columns !== undefined, created: true, createdHere: true, ...(indexes ? { indexes: indexMap(indexes) } : {}) })
  }

  dropTable(name: string): void {
    this.tables.delete(key(name))
  }

  renameTable(from: string, to: string): void {
    const state = this.tables.get(key(from))
    this.tables.delete(key(from))
    if (state) this.tables.set(key(to), { ...state, name: to })
  }

  /** Adds or redefines a column; `added` marks a column this script added. */
  setColumn(table: string, column: ColumnState): void {
    this.tableToChange(table).columns.set(key(column.name), column)
  }

  dropColumn(table: string, column: string): void {
    this.table(table)?.columns.delete(key(column))
  }

  renameColumn(table: string, from: string, to: string): void {
    const columns = this.table(table)?.columns
    const state = columns?.get(key(from))
    if (!columns || !state) return
    columns.delete(key(from))
    columns.set(key(to), { ...state, name: to })
  }

  /** A table that exists whose columns are not known (a dump's CREATE TABLE the grammar cannot read): it is not absent. */
  knowTable(name: string): void {
    this.tableToChange(name)
  }

  /** A table outside the model is still tracked for what this script does to it. */
  private tableToChange(name: string): TableState {
    let state = this.table(name)
    if (!state) {
      state = { name, columns: new Map(), complete: false, created: false }
      this.tables.set(key(name), state)
    }
    return state
  }
}

function indexMap(indexes: readonly IndexModel[]): Map<string, IndexModel> {
  return new Map(indexes.map((index) => [key(index.name), index]))
}

function key(name: string): string {
  return name.toLowerCase()
}

/** A COLUMN_TYPE string of the model, read by the same grammar as the scripts so both compare alike. */
function parseModelType(table: string, column: string, type: string): ColumnType {
  const parsed = parseColumnType(type)
  if (!parsed) throw new InvalidInputError(`schema model ${table}.${column}`, `cannot read the column type "${type}"`)
  return parsed
}
