/**
 * Binding and unbinding the HTTP servers the agent owns, with the two guarantees callers
 * rely on: a failed bind is an error (not a crash via an unhandled 'error' event), and a
 * close finishes within its grace period even when clients keep connections open.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Resolves with the bound port (the actual one when `port` is 0). */
export function bind(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error): void => reject(error)
    server.once('error', failed)
    server.listen(port, host, () => {
      server.off('error', failed)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/** Bind to a unix socket path. */
export function bindPath(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error): void => reject(error)
    server.once('error', failed)
    server.listen(path, () => {
      server.off('error', failed)
      resolve()
    })
  })
}

/**
 * Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what is
 * left. Idle keep-alive connections are closed at once; `quiet` resolves when the caller's
 * in-flight requests are done, and the connections they leave idle are closed then
 * (Node closes idle connections only once, when close() is called).
 */
export function unbind(server: Server, graceMs: number, quiet: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), graceMs)
    server.close(() => {
      clearTimeout(cut)
      resolve()
    })
    server.closeIdleConnections()
    void quiet.then(() => server.closeIdleConnections())
  })
}
