/**
 * The request target (RFC 9112 §3.2) and the Host value (RFC 9110 §7.2), checked as bytes
 * where they were read. The proxy forwards origin-form only: an absolute-form target is
 * rewritten by http-head.ts with the authority found here, the asterisk form is OPTIONS's
 * alone, and the authority form (CONNECT) is refused, since a reverse proxy has no tunnel
 * to open for it.
 */
import { HeadError } from '../errors.js'

export interface Target {
  /** The authority of an absolute-form target; undefined for origin-form and "*". */
  authority: string | undefined
  /** Where the path of an absolute-form target starts (its end when it has none); -1 otherwise. */
  pathFrom: number
}

// The common case returns this one object: an origin-form target costs no allocation.
const ORIGIN_FORM: Target = { authority: undefined, pathFrom: -1 }

const SLASH = 0x2f
const COLON = 0x3a
const QUESTION = 0x3f
const STAR = 0x2a

/** Bytes of a URI host and port (RFC 3986 reg-name, IP-literal, port): no userinfo, path or spaces. */
const HOST_CHARS = new Uint8Array(256)
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%:[]") HOST_CHARS[c.charCodeAt(0)] = 1

const SCHEME_CHARS = new Uint8Array(256)
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.') SCHEME_CHARS[c.charCodeAt(0)] = 1

/**
 * Checks the form of the target at data[from, to) of a request with `method`; throws
 * HeadError(400) when it cannot be forwarded. Its bytes were checked when the request line
 * was scanned (REQUEST_LINE_CHARS: printable ASCII but "#"; RFC 3986 wants "{", "|", "^"
 * and the like percent-encoded, but browsers send them raw and no parser splits on them).
 */
export function requestTarget(data: Buffer, from: number, to: number, method: string): Target {
  if (method === 'CONNECT') throw new HeadError(400, 'CONNECT is not supported by this proxy')
  const c = data[from]
  if (c === SLASH) return ORIGIN_FORM
  if (c === STAR && to === from + 1) {
    if (method !== 'OPTIONS') throw new HeadError(400, 'the "*" target is for OPTIONS only')
    return ORIGIN_FORM
  }
  return absoluteForm(data, from, to)
}

/** `http://authority[/path][?query]` (or https): its authority, checked, and where its path starts. */
function absoluteForm(data: Buffer, from: number, to: number): Target {
  let i = from
  while (i < to && SCHEME_CHARS[data[i]!] === 1) i++
  const scheme = data.toString('latin1', from, i).toLowerCase()
  if ((scheme !== 'http' && scheme !== 'https') || data[i] !== COLON || data[i + 1] !== SLASH || data[i + 2] !== SLASH) {
    throw new HeadError(400, 'the request target is neither a path nor an http(s) URL')
  }
  const authorityFrom = i + 3
  let pathFrom = authorityFrom
  while (pathFrom < to && data[pathFrom] !== SLASH && data[pathFrom] !== QUESTION) pathFrom++
  const authority = data.toString('latin1', authorityFrom, pathFrom)
  if (authority === '' || !checkHost(authority)) throw new HeadError(400, 'invalid authority in the request target')
  return { authority, pathFrom }
}

/**
 * True when `value` is `uri-host [":" port]`: a bracketed IP literal or a name of host
 * characters, and digits after the colon. An empty Host is valid (RFC 9110 §7.2).
 */
export function checkHost(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (HOST_CHARS[value.charCodeAt(i)] !== 1) return false
  let portFrom: number
  if (value.charCodeAt(0) === 0x5b /* [ */) {
    const close = value.indexOf(']')
    if (close === -1 || value.indexOf('[', 1) !== -1 || value.indexOf(']', close + 1) !== -1) return false
    if (close + 1 === value.length) return true
    if (value.charCodeAt(close + 1) !== COLON) return false
    portFrom = close + 2
  } else {
    if (value.includes('[') || value.includes(']')) return false
    const colon = value.indexOf(':')
    if (colon === -1) return true
    if (colon === 0) return false
    portFrom = colon + 1
  }
  for (let i = portFrom; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return value.length - portFrom <= 5
}
