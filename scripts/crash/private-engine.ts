/**
 * A Docker Engine of the crash matrix's own (socket, data root, exec root, pid file), with
 * live-restore so its containers keep serving while it restarts, as a production engine
 * should be configured. The demo images are loaded into it from the machine's engine.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { DEMO_IMAGES } from '../lib/demo-images.js'
import { waitUntil } from '../lib/wait-until.js'

const ROOT = '/run/handover-crash-docker'
export const PRIVATE_DOCKER_HOST = `unix://${ROOT}/docker.sock`

export class PrivateEngine {
  private daemon: ChildProcess | undefined

  async start(): Promise<void> {
    mkdirSync(`${ROOT}/exec`, { recursive: true })
    this.daemon = spawn(
      'dockerd',
      [`--host=${PRIVATE_DOCKER_HOST}`, '--data-root=/var/lib/handover-crash-docker', `--exec-root=${ROOT}/exec`, `--pidfile=${ROOT}/docker.pid`, '--bridge=none', '--iptables=false', '--live-restore'],
      { stdio: 'ignore', env: { ...process.env, DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' } },
    )
    await waitUntil(() => this.docker(['info']).status === 0, 60_000, 'the private Docker Engine to start', 250)
  }

  async loadDemoImages(): Promise<void> {
    const images = Object.values(DEMO_IMAGES)
    const missing = images.filter((image) => this.docker(['image', 'inspect', image]).status !== 0)
    if (missing.length === 0) return
    const save = spawnSync('docker', ['save', ...missing], { maxBuffer: 2 ** 31 })
    if (save.status !== 0) throw new Error(`docker save failed: ${save.stderr}`)
    const load = spawnSync('docker', ['--host', PRIVATE_DOCKER_HOST, 'load'], { input: save.stdout, maxBuffer: 2 ** 26 })
    if (load.status !== 0) throw new Error(`docker load failed: ${load.stderr}`)
  }

  /** SIGTERM to dockerd and a new one after `downMs`; live-restore keeps the containers running. */
  async restart(downMs: number): Promise<void> {
    await this.stop()
    await new Promise((resolve) => setTimeout(resolve, downMs))
    await this.start()
  }

  async stop(): Promise<void> {
    const daemon = this.daemon
    if (!daemon || daemon.exitCode !== null) return
    const exited = new Promise((resolve) => daemon.once('exit', resolve))
    daemon.kill('SIGTERM')
    await exited
    this.daemon = undefined
  }

  /** Removes every container of this engine (left by the matrix's services). */
  removeAll(): void {
    const ids = this.docker(['ps', '-aq']).stdout.toString().split('\n').filter(Boolean)
    if (ids.length) this.docker(['rm', '-f', ...ids])
  }

  private docker(args: string[]) {
    return spawnSync('docker', ['--host', PRIVATE_DOCKER_HOST, ...args])
  }
}
