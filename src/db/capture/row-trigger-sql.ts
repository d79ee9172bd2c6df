import { quoteName } from '../migrations/scripts/sql-statements.js'
import type { RowBackfill } from './backfill-shape.js'
import type { ColumnFact } from './column-facts.js'

/** The session variable handover's own statements set; the triggers leave those writes alone. */
export const OWN_WRITES_VARIABLE = '@handover_backfill'

/**
 * The body of a BEFORE INSERT/UPDATE trigger that applies a backfill to the row being
 * written: the columns it writes first go back to their default, then its assignments run
 * under its condition, in order, each seeing the ones before (as in an UPDATE's SET).
 *
 * A write of the old version must never fail because of it: an error in an assignment (a
 * value too long, a bad conversion) is caught and recorded in `errors`, and a NULL bound
 * for a NOT NULL column is recorded instead of assigned (that check is the server's own,
 * after the trigger, where no handler reaches). The backfill itself would have failed on
 * such a row, so the contract refuses to go on when anything was recorded.
 */
export function rowTriggerBody(shape: RowBackfill, resets: readonly string[], facts: ReadonlyMap<string, ColumnFact>, errors: string): string {
  const resetLines = resets.flatMap((column) => {
    const fact = facts.get(column.toLowerCase())
    return fact?.defaultSql === undefined ? [] : [`SET NEW.${quoteName(column)} = ${fact.defaultSql};`]
  })
  const record = (message: string): string => `INSERT INTO ${errors} (message) VALUES (${message});`
  const assignments = shape.assignments.map(({ column, expression }) => {
    const target = `NEW.${quoteName(column)}`
    if (facts.get(column.toLowerCase())?.nullable !== false) return `SET ${target} = (${expression}\n);`
    const refusal = `'${column.replace(/'/g, "''").replace(/\\/g, '\\\\')} would be NULL, and it is NOT NULL'`
    return `SET @handover_value = (${expression}\n);\nIF @handover_value IS NULL THEN ${record(refusal)} ELSE SET ${target} = @handover_value; END IF;`
  })
  const apply = shape.condition ? [`IF (${shape.condition}\n) THEN`, ...assignments, 'END IF;'] : assignments
  return [
    'BEGIN',
    `DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN GET DIAGNOSTICS CONDITION 1 @handover_error = MESSAGE_TEXT; ${record('LEFT(@handover_error, 500)')} END;`,
    `IF ${OWN_WRITES_VARIABLE} IS NULL THEN`,
    ...resetLines,
    ...apply,
    'END IF;',
    'END',
  ].join('\n')
}
