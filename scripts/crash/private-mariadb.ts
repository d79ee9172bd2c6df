/**
 * A MariaDB server of the crash matrix's own (its data directory, port and socket), so a
 * fault case can restart the database under an upgrade without touching the machine's
 * server that other work uses.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { dbPassword } from '../lib/db-password.js'
import { waitUntil } from '../lib/wait-until.js'

const DATA_DIR = '/var/lib/handover-crash-mariadb'
const RUN_DIR = '/run/handover-crash-mariadb'
const SOCKET = `${RUN_DIR}/mysqld.sock`
export const PRIVATE_DB_PORT = 3317

export class PrivateMariaDb {
  private server: ChildProcess | undefined

  async start(): Promise<void> {
    mkdirSync(RUN_DIR, { recursive: true })
    spawnSync('chown', ['mysql:mysql', RUN_DIR])
    if (!existsSync(`${DATA_DIR}/mysql`)) {
      const init = spawnSync('mariadb-install-db', ['--user=mysql', `--datadir=${DATA_DIR}`, '--auth-root-authentication-method=socket', '--skip-test-db'], { encoding: 'utf8' })
      if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr}`)
    }
    this.server = spawn('/usr/sbin/mariadbd', ['--user=mysql', `--datadir=${DATA_DIR}`, `--socket=${SOCKET}`, `--port=${PRIVATE_DB_PORT}`, '--bind-address=127.0.0.1', `--pid-file=${RUN_DIR}/mysqld.pid`, '--skip-log-bin'], { stdio: 'ignore' })
    await waitUntil(() => spawnSync('mariadb-admin', [`--socket=${SOCKET}`, 'ping'], { stdio: 'ignore' }).status === 0, 60_000, 'the private MariaDB to start', 200)
    // The password goes on stdin, never in a process listing.
    const password = dbPassword().replace(/'/g, "''")
    const grant = spawnSync('mariadb', [`--socket=${SOCKET}`], {
      input: `CREATE USER IF NOT EXISTS 'handover'@'127.0.0.1' IDENTIFIED BY '${password}'; ALTER USER 'handover'@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL PRIVILEGES ON *.* TO 'handover'@'127.0.0.1' WITH GRANT OPTION;`,
      encoding: 'utf8',
    })
    if (grant.status !== 0) throw new Error(`cannot create the handover user: ${grant.stderr}`)
  }

  /** Stops the server (a clean shutdown, as a package upgrade or a reboot does) and starts it again after `downMs`. */
  async restart(downMs: number): Promise<void> {
    await this.stop()
    await new Promise((resolve) => setTimeout(resolve, downMs))
    await this.start()
  }

  async stop(): Promise<void> {
    const server = this.server
    if (!server || server.exitCode !== null) return
    const exited = new Promise((resolve) => server.once('exit', resolve))
    server.kill('SIGTERM')
    await exited
    this.server = undefined
  }
}
