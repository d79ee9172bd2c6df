/**
 * Small checks for untrusted JSON (admin API bodies, the state file). Each names the exact
 * field that is wrong, e.g. `body.slots.blue.port: must be an integer 1-65535`, because the
 * SRE reading the error has only that line to go on.
 */
import { isIP } from 'node:net'
import { InvalidInputError } from '../errors.js'

export type JsonObject = Record<string, unknown>

/** A JSON object with no fields beyond `fields`, so a misspelt field is refused, not ignored. */
export function object(value: unknown, where: string, fields: readonly string[]): JsonObject {
  const json = record(value, where)
  const unknown = Object.keys(json).find((key) => !fields.includes(key))
  if (unknown !== undefined) {
    throw new InvalidInputError(`${where}.${unknown}`, `unknown field (expected one of: ${fields.join(', ')})`)
  }
  return json
}

/** A JSON object whose other fields are ignored (for shapes another module may extend). */
export function record(value: unknown, where: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(where, 'must be a JSON object')
  }
  return value as JsonObject
}

export function integer(value: unknown, where: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(where, `must be an integer ${min}-${max}`)
  }
  return value
}

export function finite(value: unknown, where: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidInputError(where, `must be a number ${min}-${max}`)
  }
  return value
}

export function oneOf<T extends string>(value: unknown, where: string, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new InvalidInputError(where, `must be one of: ${choices.join(', ')}`)
  }
  return value as T
}

export function boolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidInputError(where, 'must be true or false')
  return value
}

export function text(value: unknown, where: string, maxLength: number, minLength = 1): string {
  if (typeof value !== 'string' || value.length < minLength || value.length > maxLength) {
    throw new InvalidInputError(where, `must be a ${minLength > 0 ? 'non-empty ' : ''}string of at most ${maxLength} characters`)
  }
  return value
}

/** An array of at most `maxItems` non-empty strings, each at most `maxLength` long. */
export function texts(value: unknown, where: string, maxItems: number, maxLength: number): string[] {
  if (!Array.isArray(value) || value.length > maxItems) throw new InvalidInputError(where, `must be an array of at most ${maxItems} strings`)
  return value.map((item, i) => text(item, `${where}[${i}]`, maxLength))
}

// Names become metric label values and URL path parts: keep them short and plain.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/

export function name(value: unknown, where: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new InvalidInputError(where, 'must be 1-63 characters of letters, digits, "_", "." or "-", starting with a letter or digit')
  }
  return value
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/

export function host(value: unknown, where: string): string {
  if (typeof value !== 'string' || (isIP(value) === 0 && (value.length > 253 || !HOSTNAME.test(value)))) {
    throw new InvalidInputError(where, 'must be an IP address or a host name')
  }
  return value
}
