/**
 * `CREATE INDEX` and `DROP INDEX` as the `ALTER TABLE` that does the same: only ALTER TABLE
 * takes every `ALGORITHM=`/`LOCK=` clause on MariaDB 10.11 (DROP INDEX takes none), so the
 * rehearsal asks the server its algorithm that way and the real run asks for the same.
 */
const NAME = '(`(?:[^`]|``)+`|[A-Za-z0-9_$]+)'
const TABLE = `(${NAME}(?:\\s*\\.\\s*${NAME})?)`
const CREATE_INDEX = new RegExp(`^\\s*CREATE\\s+((?:UNIQUE|FULLTEXT|SPATIAL)\\s+)?INDEX\\s+(IF\\s+NOT\\s+EXISTS\\s+)?${NAME}\\s+(USING\\s+\\w+\\s+)?ON\\s+${TABLE}\\s*(\\([\\s\\S]*)$`, 'i')
const DROP_INDEX = new RegExp(`^\\s*DROP\\s+INDEX\\s+(IF\\s+EXISTS\\s+)?${NAME}\\s+ON\\s+${TABLE}\\s*$`, 'i')
/** Clauses whose place differs between the two forms: such a statement runs as written. */
const OWN_CLAUSES = /\b(?:ALGORITHM|LOCK|WAIT|NOWAIT)\b/i

export function indexStatementAsAlter(sql: string): string | undefined {
  if (OWN_CLAUSES.test(sql)) return undefined
  const create = CREATE_INDEX.exec(sql)
  if (create) {
    const [, kind = '', ifNotExists = '', name, using = '', table, , , rest] = create
    return `ALTER TABLE ${table} ADD ${kind.toUpperCase()}INDEX ${ifNotExists.toUpperCase()}${name} ${using}${rest!.trim()}`
  }
  const drop = DROP_INDEX.exec(sql)
  if (drop) {
    const [, ifExists = '', name, table] = drop
    return `ALTER TABLE ${table} DROP INDEX ${ifExists.toUpperCase()}${name}`
  }
  return undefined
}
