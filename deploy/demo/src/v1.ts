/**
 * Version 1 stores a person's whole name in `people.name`. It must keep working after the
 * expand migration (which only adds nullable first_name/last_name), because v1 serves
 * traffic while v2 starts next to it; so it names its columns and never relies on `*`.
 */
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import { BadRequestError, type PeopleStore, type PersonView } from './service.js'

export const MAX_NAME_LENGTH = 200

export interface NewPersonV1 {
  name: string
}

export function createV1Store(pool: Pool): PeopleStore<NewPersonV1> {
  return {
    parseNewPerson: parseNameBody,
    insert: async ({ name }) => {
      const [result] = await pool.execute<ResultSetHeader>('INSERT INTO people (name) VALUES (?)', [name])
      return { id: result.insertId, name }
    },
    update: async (id, { name }) => {
      const [result] = await pool.execute<ResultSetHeader>('UPDATE people SET name = ? WHERE id = ?', [name, id])
      return result.affectedRows > 0 ? { id, name } : null
    },
    remove: async (id) => {
      const [result] = await pool.execute<ResultSetHeader>('DELETE FROM people WHERE id = ?', [id])
      return result.affectedRows > 0
    },
    findById: async (id) => {
      const [rows] = await pool.execute<RowDataPacket[]>('SELECT id, name FROM people WHERE id = ?', [id])
      const row = rows[0]
      return row ? toView(row) : null
    },
  }
}

function parseNameBody(body: unknown): NewPersonV1 {
  const name = typeof body === 'object' && body !== null ? (body as { name?: unknown }).name : undefined
  if (typeof name !== 'string' || name.trim() === '') throw new BadRequestError('body must be {"name": "<non-empty string>"}')
  const trimmed = name.trim()
  if (trimmed.length > MAX_NAME_LENGTH) throw new BadRequestError(`name is longer than ${MAX_NAME_LENGTH} characters`)
  return { name: trimmed }
}

function toView(row: RowDataPacket): PersonView {
  return { id: Number(row.id), name: String(row.name) }
}
