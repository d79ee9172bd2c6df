/**
 * Answers the proxy gives itself (no slot, buffer rejections, upstream failures): short
 * plain text that names the reason, so a curl in an incident says what happened. Written as
 * raw bytes on the client connection, like every response the proxy relays.
 */
const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
}

export interface AnswerOptions {
  /** Adds `Retry-After: 1`: the client should simply try again in a second. */
  retry: boolean
  /** Adds `Connection: close`: the connection ends with this answer. */
  close: boolean
}

/** The whole response, head and body, as one string to write. */
export function answerText(status: number, body: string, options: AnswerOptions): string {
  const text = body + '\n'
  return (
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n` +
    'content-type: text/plain; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(text)}\r\n` +
    (options.retry ? 'retry-after: 1\r\n' : '') +
    (options.close ? 'connection: close\r\n' : '') +
    '\r\n' +
    text
  )
}
