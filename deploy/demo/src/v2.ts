/**
 * Version 2 stores first_name/last_name; after the contract migration `name` is gone.
 * The API stays v1-compatible: it accepts {"name"} and answers with a composed `name`.
 *
 * v2 also works on the expanded schema (both column sets, `name` still NOT NULL): there it
 * writes `name` as well, so v1 instances running beside it read v2's rows, and it reads
 * v1's rows (first_name still NULL) from `name`. Whether `name` exists is looked up once
 * and looked up again when the contract migration drops it under a running instance.
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

const ER_BAD_FIELD_ERROR = 1054

export function createV2Store(pool: Pool): PeopleStore<NewPersonV2> {
  const nameColumn = nameColumnTracker(pool)

  async function insertRow(person: NewPersonV2): Promise<number> {
    if (!(await nameColumn.exists())) return insertContracted(pool, person)
    try {
      return await insertExpanded(pool, person)
    } catch (error) {
      if (!isBadField(error)) throw error
      // The contract migration dropped `name` since we looked: forget and write without it.
      if (nameColumn.forget()) log('name-column-dropped', { detail: 'writing first_name/last_name only from now on' })
      return insertContracted(pool, person)
    }
  }

  return {
    parseNewPerson: parsePersonBody,
    insert: async (person) => {
      const id = await insertRow(person)
      return viewOf(id, person.firstName, person.lastName)
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

function insertContracted(pool: Pool, { firstName, lastName }: NewPersonV2): Promise<number> {
  return pool
    .execute<ResultSetHeader>('INSERT INTO people (first_name, last_name) VALUES (?, ?)', [firstName, lastName])
    .then(([result]) => result.insertId)
}

function insertExpanded(pool: Pool, { firstName, lastName }: NewPersonV2): Promise<number> {
  return pool
    .execute<ResultSetHeader>('INSERT INTO people (name, first_name, last_name) VALUES (?, ?, ?)', [
      composeName(firstName, lastName),
      firstName,
      lastName,
    ])
    .then(([result]) => result.insertId)
}

/** Caches whether people.name exists; concurrent callers share one lookup. */
function nameColumnTracker(pool: Pool): { exists(): Promise<boolean>; forget(): boolean } {
  let lookup: Promise<boolean> | undefined
  let forgotten = false
  return {
    exists() {
      lookup ??= queryNameColumn(pool).catch((error: unknown) => {
        lookup = undefined // a failed lookup (database down) must not be cached
        throw error
      })
      return lookup
    },
    /** Records that `name` is gone; true for the first caller (concurrent inserts all see the error). */
    forget() {
      const known = forgotten
      forgotten = true
      lookup = Promise.resolve(false)
      return !known
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

function isBadField(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { errno?: unknown }).errno === ER_BAD_FIELD_ERROR
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
