import net from 'node:net'

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: listen on port 0, read what the
 * kernel picked, close. Another process can take it before the caller binds it, so use it
 * right away (a container that then fails to listen shows that in its logs).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}
