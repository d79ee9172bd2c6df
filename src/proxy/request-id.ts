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
let idCounter = 0

export function nextRequestId(): string {
  idCounter = (idCounter + 1) % 0x1000000000000
  return ID_PREFIX + idCounter.toString(16).padStart(12, '0')
}
