/**
 * Binding and unbinding the servers the agent owns, with the two guarantees callers rely
 * on: a failed bind is an error (not a crash via an unhandled 'error' event), and a close
 * finishes within its grace period even when clients keep connections open.
 */
import type { Server } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Server as HttpServer } from 'node:http'

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

/**
 * Binds a unix socket that only this user can open, from its first moment: bind(2) creates
 * the file with the process umask, and under a permissive one a chmod afterwards would leave
 * it world-writable in between. The umask is narrowed around the bind only; listen() binds a
 * path synchronously, so no other file of this process is created under it.
 */
export function bindPrivately(server: Server, path: string): Promise<void> {
  const umask = process.umask(0o177)
  try {
    return bindPath(server, path)
  } finally {
    process.umask(umask)
  }
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

/** Closes an HTTP server now: keep-alive connections are cut, not waited for. */
export function closeNow(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

/** What unbind needs of a connection. */
export interface Closable {
  closeIfIdle(): void
  destroy(): void
}

/**
 * Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what is
 * left. Busy connections close after their response; `quiet` resolves when the caller's
 * in-flight requests are done, and whatever is still open then is closed.
 */
export function unbind(server: Server, connections: Iterable<Closable>, graceMs: number, quiet: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const cutAll = (): void => {
      for (const connection of [...connections]) connection.destroy()
    }
    const cut = setTimeout(cutAll, graceMs)
    server.close(() => {
      clearTimeout(cut)
      resolve()
    })
    void quiet.then(() => {
      for (const connection of [...connections]) connection.closeIfIdle()
    })
  })
}
