import type { HandoverConfig } from '../../config/config.js'
import type { Connection } from '../../db/connection.js'
import { schemaFromDump } from '../../db/classifier/schema-dump.js'
import { SchemaState } from '../../db/classifier/schema-state.js'
import { loadSchemaModel } from '../../db/ddl/schema-model.js'
import { readDumpTables } from '../../db/dump-tables.js'
import type { RecordedFact } from '../../db/journal/run-facts.js'
import { HandoverError, errorMessage } from '../../errors.js'

/** The run's pre-upgrade dump, which says what schema its scripts were classified against, cannot be read. */
export class RunStartSchemaUnreadableError extends HandoverError {
  readonly code = 'RUN_START_SCHEMA_UNREADABLE'

  constructor(
    readonly runId: string,
    readonly file: string,
    readonly problem: string,
  ) {
    super(`run ${runId}: its pre-upgrade dump ${file} cannot be read (${problem}); it is the schema the run's scripts were classified against, and the live one is already partly changed. Put the dump back at that path and steer the run again`)
  }
}

/**
 * The schema an unfinished run started from, for classifying its scripts as the run did: the
 * live schema is partly changed by the dead run, and a statement such as `DROP TABLE IF EXISTS`
 * of a table the expand then created would be read differently against it. The run's
 * `backup-written` fact names the dump taken before anything changed; a run with no such fact
 * stopped before its backup, so nothing changed and the live schema is the starting one.
 */
export async function runStartSchema(db: Connection, config: HandoverConfig, runId: string, facts: readonly RecordedFact[]): Promise<SchemaState> {
  const backup = facts.map((recorded) => recorded.fact).find((fact) => fact.type === 'backup-written')
  if (!backup) return new SchemaState(await loadSchemaModel(db, config.database.schema))
  let tables: string
  try {
    tables = await readDumpTables(backup.file)
  } catch (error) {
    throw new RunStartSchemaUnreadableError(runId, backup.file, errorMessage(error))
  }
  return schemaFromDump(tables)
}
