import type { Connection } from '../connection.js'

/**
 * How the server carries out an ALTER TABLE, cheapest first. Which one a change gets is the
 * server's decision (MariaDB 10.11 copies the table for a VARCHAR widening across the 255-byte
 * boundary but not past it, for an ENUM value inserted mid-list but not appended...), so it is
 * asked, not guessed: each is tried in turn and the server refuses the ones it cannot do.
 */
export const ALTER_ALGORITHMS = ['INSTANT', 'NOCOPY', 'INPLACE', 'COPY'] as const
export type AlterAlgorithm = (typeof ALTER_ALGORITHMS)[number]

const ALTER_TABLE = /^\s*ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\b/i
const ALGORITHM_CLAUSE = /\bALGORITHM\s*=?\s*(\w+)/i
/** ER_ALTER_OPERATION_NOT_SUPPORTED and ER_ALTER_OPERATION_NOT_SUPPORTED_REASON. */
const NOT_SUPPORTED_ERRNOS = new Set([1845, 1846])

export function isAlterTable(sql: string): boolean {
  return ALTER_TABLE.test(sql)
}

/** The algorithm a statement names itself, if it does. */
export function declaredAlgorithm(sql: string): string | undefined {
  return ALGORITHM_CLAUSE.exec(sql)?.[1]?.toUpperCase()
}

/** The statement with the clause that makes the server use `algorithm` or refuse. */
export function withAlgorithm(sql: string, algorithm: AlterAlgorithm): string {
  if (algorithm === 'COPY' || declaredAlgorithm(sql)) return sql
  // Without LOCK=NONE an in-place change may still block writes for its whole run.
  return algorithm === 'INSTANT' ? `${sql}, ALGORITHM=INSTANT` : `${sql}, ALGORITHM=${algorithm}, LOCK=NONE`
}

/**
 * Runs an ALTER with the cheapest algorithm the server accepts and says which it was. A
 * refused algorithm changes nothing, so trying the next one is safe.
 */
export async function alterCheapest(connection: Connection, sql: string): Promise<AlterAlgorithm> {
  const declared = declaredAlgorithm(sql)
  if (declared) {
    await connection.query(sql)
    return (ALTER_ALGORITHMS as readonly string[]).includes(declared) ? (declared as AlterAlgorithm) : 'COPY'
  }
  for (const algorithm of ALTER_ALGORITHMS) {
    try {
      await connection.query(withAlgorithm(sql, algorithm))
      return algorithm
    } catch (error) {
      if (algorithm === 'COPY' || !NOT_SUPPORTED_ERRNOS.has((error as { errno?: number }).errno ?? 0)) throw error
    }
  }
  throw new Error('unreachable: COPY is always tried last')
}
