import { tokenizeScript } from '../migrations/scripts/sql-statements.js'
import { ScriptClassifier } from './classify.js'
import { SchemaState } from './schema-state.js'

/**
 * The schema a dump or a release's create script describes, read with the classifier's own
 * grammar: every CREATE TABLE of it (columns, keys, AUTO_INCREMENT, primary keys); other
 * statements (SET, INSERT, comments) are passed over. Lint classifies against it without a
 * database.
 */
export function schemaFromDump(text: string): SchemaState {
  const state = new SchemaState({ tables: {} })
  const classifier = new ScriptClassifier({ state })
  for (const token of tokenizeScript(text)) {
    if (token.kind !== 'statement' || !/^\s*CREATE\s+TABLE\b/i.test(token.statement.sql)) continue
    try {
      classifier.classify(token.statement)
    } catch {
      // A table the grammar cannot read (partitioned, system-versioned, an INET6 column) exists with unknown columns:
      // statements on it are classified as without a model, and a DROP TABLE IF EXISTS of it is a real drop.
      const name = tableNameOf(token.statement.sql)
      if (name !== undefined) state.knowTable(name)
    }
  }
  state.settle()
  return state
}

/** The table a CREATE TABLE names, read without the grammar (which could not read the statement). */
function tableNameOf(sql: string): string | undefined {
  const match = /^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:(?:`[^`]+`|\w+)\s*\.\s*)?(?:`((?:[^`]|``)+)`|(\w+))/i.exec(sql)
  return match ? (match[1]?.replace(/``/g, '`') ?? match[2]) : undefined
}
