/**
 * The X-Request-Id the proxy adds to a request that came without one.
 */
import { randomBytes } from 'node:crypto'

// Request ids in the UUID v4 shape (log tools expect it): 74 random bits drawn once per agent
// process, then a counter in the last 48 bits. Unique within the process by construction and
// across processes by the random part, at a fraction of randomUUID's cost per request.
const ID_PREFIX = ((): string => {
  const hex = randomBytes(10).toString('hex')
  const variant = ((parseInt(hex[12]!, 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(16, 19)}-`
})()
const PREFIX_BYTES = Buffer.from(ID_PREFIX, 'latin1')
const COUNTER_DIGITS = 12
const HEX = Buffer.from('0123456789abcdef', 'latin1')
let idCounter = 0

/** The length of every id, in bytes. */
export const REQUEST_ID_LENGTH = PREFIX_BYTES.length + COUNTER_DIGITS

/** The next id, as its counter (never 0): a number costs no string per request. */
export function nextRequestId(): number {
  idCounter = (idCounter % 0xffffffffffff) + 1
  return idCounter
}

/** Writes id `n` at out[at]; returns where it ends. */
export function writeRequestId(out: Buffer, at: number, n: number): number {
  out.set(PREFIX_BYTES, at)
  const digits = at + PREFIX_BYTES.length
  // 48 bits do not fit the 32-bit bitwise operators: two halves of 24 bits, six digits each.
  let low = n % 0x1000000
  let high = (n - low) / 0x1000000
  for (let i = COUNTER_DIGITS - 1; i >= COUNTER_DIGITS / 2; i--, low >>>= 4) out[digits + i] = HEX[low & 15]!
  for (let i = COUNTER_DIGITS / 2 - 1; i >= 0; i--, high >>>= 4) out[digits + i] = HEX[high & 15]!
  return digits + COUNTER_DIGITS
}

