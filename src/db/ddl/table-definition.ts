import type { RowDataPacket } from 'mysql2/promise'
import { quoteName, type Connection } from '../connection.js'

/**
 * A table's definition as SHOW CREATE TABLE prints it, one item a line: the server's own
 * text for each column, key and constraint is valid clause syntax (`MODIFY <line>`,
 * `ADD <line>`), so a definition taken before a change says exactly how to put it back.
 */
export interface TableDefinition {
  name: string
  /** In table order; `line` is the column's whole definition, name included. */
  columns: DefinitionItem[]
  /** PRIMARY for the primary key, else the index name. */
  keys: DefinitionItem[]
  foreignKeys: DefinitionItem[]
  checks: DefinitionItem[]
  /** Everything after the closing parenthesis (engine, charset, partitions), counters left out. */
  options: string
}

export interface DefinitionItem {
  name: string
  line: string
}

export class DefinitionUnreadableError extends Error {}

/** The table's definition, or undefined when it does not exist. */
export async function readDefinition(connection: Connection, schema: string, table: string): Promise<TableDefinition | undefined> {
  const [rows] = await connection.query<RowDataPacket[]>('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [schema, table])
  if (rows.length === 0) return undefined
  const [created] = await connection.query<RowDataPacket[]>(`SHOW CREATE TABLE ${quoteName(schema)}.${quoteName(table)}`)
  return parseDefinition(String(created[0]!['Create Table']))
}

export function parseDefinition(text: string): TableDefinition {
  const lines = text.split('\n')
  const head = /^CREATE TABLE `((?:[^`]|``)+)` \($/.exec(lines[0] ?? '')
  const tail = lines[lines.length - 1] ?? ''
  if (!head || !tail.startsWith(')')) throw new DefinitionUnreadableError(`not a SHOW CREATE TABLE text: ${lines[0]}`)
  const definition: TableDefinition = { name: unquote(head[1]!), columns: [], keys: [], foreignKeys: [], checks: [], options: tail.slice(1).replace(/ AUTO_INCREMENT=\d+/, '').trim() }
  for (const raw of lines.slice(1, -1)) {
    const line = raw.trim().replace(/,$/, '')
    const item = readItem(line)
    if (!item) throw new DefinitionUnreadableError(`a line of ${definition.name}'s definition handover does not know: ${line}`)
    definition[item.list].push({ name: item.name, line })
  }
  return definition
}

type ItemList = 'columns' | 'keys' | 'foreignKeys' | 'checks'

const NAME = '`((?:[^`]|``)+)`'
const ITEMS: [RegExp, ItemList][] = [
  [new RegExp(`^${NAME} `), 'columns'],
  [new RegExp(`^(?:UNIQUE |FULLTEXT |SPATIAL |VECTOR )?KEY ${NAME}`), 'keys'],
  [new RegExp(`^CONSTRAINT ${NAME} FOREIGN KEY `), 'foreignKeys'],
  [new RegExp(`^CONSTRAINT ${NAME} CHECK `), 'checks'],
]

function readItem(line: string): { list: ItemList; name: string } | undefined {
  if (line.startsWith('PRIMARY KEY ')) return { list: 'keys', name: 'PRIMARY' }
  for (const [pattern, list] of ITEMS) {
    const match = pattern.exec(line)
    if (match) return { list, name: unquote(match[1]!) }
  }
  return undefined
}

function unquote(name: string): string {
  return name.replace(/``/g, '`')
}

/** Two definitions are the same table when every line is (counters aside). */
export function sameDefinition(a: TableDefinition, b: TableDefinition): boolean {
  return definitionLines(a).join('\n') === definitionLines(b).join('\n')
}

/** The lines in which two definitions differ, for a message: `-` only in `a`, `+` only in `b`. */
export function definitionDifference(a: TableDefinition, b: TableDefinition): string[] {
  const [left, right] = [definitionLines(a), definitionLines(b)]
  return [...left.filter((line) => !right.includes(line)).map((line) => `- ${line}`), ...right.filter((line) => !left.includes(line)).map((line) => `+ ${line}`)]
}

function definitionLines(definition: TableDefinition): string[] {
  return [
    `TABLE ${definition.name}`,
    ...definition.columns.map((item) => item.line),
    ...[...definition.keys, ...definition.foreignKeys, ...definition.checks].map((item) => item.line).sort(),
    `OPTIONS ${definition.options}`,
  ]
}
