/**
 * Version 2 stores first_name/last_name; after the contract migration `name` is gone.
 * The API stays v1-compatible: it accepts {"name"} and answers with a composed `name`.
 *
 * v2 also works on the expanded schema (both column sets, `name` still NOT NULL): there it
 * writes `name` as well, so v1 instances running beside it read v2's rows, and it reads
 * v1's rows (first_name still NULL) from `name`. Whether `name` exists is looked up once,
 * and again when an INSERT shows it changed: the contract dropped it under a running v2,
 * or a contract-undo put it back (NOT NULL). The latter relies on strict SQL mode (MariaDB's
 * and MySQL's default); without it the server stores '' in `name` instead of failing.
 */
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import { BadRequestError, log, type PeopleStore, type PersonView } from './service.js'

export const MAX_PART_LENGTH = 100

export interface NewPersonV2 {
  firstName: string
  lastName: string
}

/** "Ada Lovelace" -> Ada / Lovelace: split at the first space; no space -> empty last name. */
export function splitName(name: string): NewPersonV2 {
  const trimmed = name.trim()
  const space = trimmed.indexOf(' ')
  if (space < 0) return { firstName: trimmed, lastName: '' }
  return { firstName: trimmed.slice(0, space), lastName: trimmed.slice(space + 1) }
}

/** The inverse of splitName for every trimmed name, so clients read back what they wrote. */
export function composeName(firstName: string, lastName: string): string {
  return `${firstName} ${lastName}`.trim()
}

// The two ways an INSERT tells us the schema moved under us since we looked:
const ER_BAD_FIELD_ERROR = 1054 // `name` was dropped (contract)
const ER_NO_DEFAULT_FOR_FIELD = 1364 // `name` is back and NOT NULL (contract undone)

export function createV2Store(pool: Pool): PeopleStore<NewPersonV2> {
  const nameColumn = nameColumnTracker(pool)

  /** Runs a write for the schema as last seen; when the schema moved under it, looks again and retries once. */
  async function write<T>(run: (hasName: boolean) => Promise<T>): Promise<T> {
    const hadName = await nameColumn.exists()
    try {
      return await run(hadName)
    } catch (error) {
      if (!isSchemaMismatch(error)) throw error
      // The first writer to notice says so in the log.
      const hasName = await nameColumn.refresh(hadName)
      if (hasName === hadName) throw error
      return run(hasName)
    }
  }

  return {
    parseNewPerson: parsePersonBody,
    insert: async (person) => {
      const id = await write((hasName) => insertFor(hasName, pool, person))
      return viewOf(id, person.firstName, person.lastName)
    },
    update: async (id, person) => {
      const found = await write((hasName) => updateFor(hasName, pool, id, person))
      return found ? viewOf(id, person.firstName, person.lastName) : null
    },
    remove: async (id) => {
      const [result] = await pool.execute<ResultSetHeader>('DELETE FROM people WHERE id = ?', [id])
      return result.affectedRows > 0
    },
    findById: async (id) => {
      // `*` on purpose: the column set changes under a running v2 (contract drops `name`),
      // and rowToView reads whichever columns the row has.
      const [rows] = await pool.execute<RowDataPacket[]>('SELECT * FROM people WHERE id = ?', [id])
      const row = rows[0]
      return row ? rowToView(row) : null
    },
  }
}

/** With `name` present (expanded schema) v2 writes it too, so v1 instances read v2's rows. */
async function insertFor(hasName: boolean, pool: Pool, { firstName, lastName }: NewPersonV2): Promise<number> {
  const [result] = hasName
    ? await pool.execute<ResultSetHeader>('INSERT INTO people (name, first_name, last_name) VALUES (?, ?, ?)', [
        composeName(firstName, lastName),
        firstName,
        lastName,
      ])
    : await pool.execute<ResultSetHeader>('INSERT INTO people (first_name, last_name) VALUES (?, ?)', [firstName, lastName])
  return result.insertId
}

async function updateFor(hasName: boolean, pool: Pool, id: number, { firstName, lastName }: NewPersonV2): Promise<boolean> {
  const [result] = hasName
    ? await pool.execute<ResultSetHeader>('UPDATE people SET name = ?, first_name = ?, last_name = ? WHERE id = ?', [composeName(firstName, lastName), firstName, lastName, id])
    : await pool.execute<ResultSetHeader>('UPDATE people SET first_name = ?, last_name = ? WHERE id = ?', [firstName, lastName, id])
  return result.affectedRows > 0
}

/** Caches whether people.name exists; concurrent callers share one lookup. */
function nameColumnTracker(pool: Pool): { exists(): Promise<boolean>; refresh(stale: boolean): Promise<boolean> } {
  let known: boolean | undefined
  let lookup: Promise<boolean> | undefined
  let refreshing = false
  const look = (): Promise<boolean> => {
    lookup ??= queryNameColumn(pool).then(
      (exists) => {
        if (known !== undefined && known !== exists) log('name-column-changed', { exists })
        known = exists
        return exists
      },
      (error: unknown) => {
        lookup = undefined // a failed lookup (database down) must not be cached
        throw error
      },
    )
    return lookup
  }
  return {
    exists: look,
    /** Looks again after an insert failed on the `stale` belief; inserts failing together share one lookup. */
    refresh(stale) {
      if (refreshing || known !== stale) return look()
      refreshing = true
      lookup = undefined
      return look().finally(() => {
        refreshing = false
      })
    },
  }
}

async function queryNameColumn(pool: Pool): Promise<boolean> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'people' AND COLUMN_NAME = 'name'`,
  )
  return Number(rows[0]?.n) > 0
}

function isSchemaMismatch(error: unknown): boolean {
  const errno = typeof error === 'object' && error !== null ? (error as { errno?: unknown }).errno : undefined
  return errno === ER_BAD_FIELD_ERROR || errno === ER_NO_DEFAULT_FOR_FIELD
}

function parsePersonBody(body: unknown): NewPersonV2 {
  if (typeof body !== 'object' || body === null) throw new BadRequestError('body must be a JSON object')
  const { name, first_name: firstName, last_name: lastName } = body as Record<string, unknown>
  let person: NewPersonV2
  if (firstName !== undefined || lastName !== undefined) {
    if (typeof firstName !== 'string' || firstName.trim() === '') throw new BadRequestError('first_name must be a non-empty string')
    if (lastName !== undefined && typeof lastName !== 'string') throw new BadRequestError('last_name must be a string')
    person = { firstName: firstName.trim(), lastName: (lastName ?? '').trim() }
  } else if (typeof name === 'string' && name.trim() !== '') {
    person = splitName(name)
  } else {
    throw new BadRequestError('body must be {"name": "..."} or {"first_name": "...", "last_name": "..."}')
  }
  if (person.firstName.length > MAX_PART_LENGTH || person.lastName.length > MAX_PART_LENGTH) {
    throw new BadRequestError(`first and last name are limited to ${MAX_PART_LENGTH} characters each`)
  }
  return person
}

/** A row written by v2 has first_name; one written by v1 on the expanded schema only has name. */
function rowToView(row: RowDataPacket): PersonView {
  if (row.first_name !== null && row.first_name !== undefined) {
    return viewOf(Number(row.id), String(row.first_name), String(row.last_name ?? ''))
  }
  const { firstName, lastName } = splitName(String(row.name ?? ''))
  return viewOf(Number(row.id), firstName, lastName)
}

function viewOf(id: number, firstName: string, lastName: string): PersonView {
  return { id, name: composeName(firstName, lastName), first_name: firstName, last_name: lastName }
}
