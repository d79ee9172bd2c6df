import { identifier, isNode, type Node } from './ast.js'
import { columnTypeOf, type ColumnType } from './column-type.js'
import type { ColumnState } from './schema-state.js'

/** What a column definition (CREATE TABLE, ADD, MODIFY, CHANGE) says, as far as compatibility goes. */
export interface ColumnDefinition {
  name: string
  type: ColumnType
  nullable: boolean
  /** A default other than NULL. */
  hasDefault: boolean
  /** AUTO_INCREMENT or GENERATED ALWAYS AS: the server fills it. */
  serverFilled: boolean
  /** Declared UNIQUE or PRIMARY KEY in the column definition itself. */
  unique: boolean
  autoIncrement: boolean
  primaryKey: boolean
}

export function readColumnDefinition(node: Node): ColumnDefinition | undefined {
  const name = identifier(node.column)
  const type = columnTypeOf(node)
  if (!name || !type) return undefined
  const primaryKey = typeof node.primary_key === 'string'
  const notNull = isNode(node.nullable) && node.nullable.type === 'not null'
  const defaultValue = isNode(node.default_val) && isNode(node.default_val.value) ? node.default_val.value : undefined
  return {
    name,
    type,
    nullable: !notNull && !primaryKey,
    hasDefault: defaultValue !== undefined && defaultValue.type !== 'null',
    serverFilled: typeof node.auto_increment === 'string' || isNode(node.generated),
    unique: primaryKey || typeof node.unique === 'string',
    autoIncrement: typeof node.auto_increment === 'string',
    primaryKey,
  }
}

/** `primaryKey`: the column is in the table's primary key already, which the server keeps NOT NULL. */
export function columnState(definition: ColumnDefinition, added: boolean, primaryKey = false): ColumnState {
  const inKey = primaryKey || definition.primaryKey
  return {
    name: definition.name,
    type: definition.type,
    nullable: definition.nullable && !inKey,
    hasDefault: definition.hasDefault || definition.serverFilled,
    added,
    ...(definition.autoIncrement ? { autoIncrement: true } : {}),
    ...(inKey ? { primaryKey: true } : {}),
  }
}
