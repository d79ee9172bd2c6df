import { tokenizeScript } from '../migrations/sql-statements.js'
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
      // A table the grammar cannot read stays unknown: statements on it are classified as without a model.
    }
  }
  state.settle()
  return state
}
