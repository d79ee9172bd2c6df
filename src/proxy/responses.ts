/**
 * Answers the proxy gives itself (no slot, buffer rejections, upstream failures): short
 * plain text that names the reason, so a curl in an incident says what happened.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'

export const PLAIN: OutgoingHttpHeaders = Object.freeze({ 'content-type': 'text/plain; charset=utf-8' })
/** The client should simply try again in a second. */
export const RETRY: OutgoingHttpHeaders = Object.freeze({ ...PLAIN, 'retry-after': '1' })
/** As RETRY, and the connection ends with the answer (the listener is shutting down). */
export const RETRY_AND_CLOSE: OutgoingHttpHeaders = Object.freeze({ ...RETRY, connection: 'close' })

export function answer(res: ServerResponse, status: number, body: string, headers: OutgoingHttpHeaders): void {
  if (res.headersSent) {
    // Part of a response already went out; the only honest signal left is to cut it.
    res.destroy()
    return
  }
  res.writeHead(status, headers).end(body + '\n')
}
