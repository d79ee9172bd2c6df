import Docker from 'dockerode'
import type { SlotName } from '../config/config.js'
import { HandoverError, errorMessage } from '../errors.js'

export const VERSION_LABEL = 'org.opencontainers.image.version'
const MANAGED_LABEL = 'handover.managed'
const SERVICE_LABEL = 'handover.service'
const SLOT_LABEL = 'handover.slot'

export class DockerUnreachableError extends HandoverError {
  readonly code = 'DOCKER_UNREACHABLE'

  constructor(reason: string) {
    super(`cannot reach the Docker Engine (${reason}); is dockerd running and /var/run/docker.sock readable?`)
  }
}

export class ImageNotFoundError extends HandoverError {
  readonly code = 'IMAGE_NOT_FOUND'

  constructor(readonly image: string) {
    super(`image ${image} is not present on this host; build or load it first (docker images ${image.split(':')[0]})`)
  }
}

export interface ImageInfo {
  /** The image's version label, if it has one. */
  version: string | undefined
}

/** What a slot's container needs; env may hold resolved secrets and is never logged. */
export interface SlotSpec {
  service: string
  slot: SlotName
  image: string
  env: Record<string, string>
  stopTimeoutSeconds: number
}

export interface SlotContainer {
  id: string
  image: string
  running: boolean
  /** Docker is about to start it again after it exited (restart policy). */
  restarting: boolean
  /** Restarts by the restart policy since it was created or last started by hand. */
  restartCount: number
  /** The exit code of its last exit (0 while it never exited). */
  exitCode: number
}

export function containerName(service: string, slot: SlotName): string {
  return `handover-${service}-${slot}`
}

/**
 * The Docker adapter: slots are containers named after service and slot, on the host
 * network so each listens on its own loopback port and the proxy never needs bridge addresses.
 * Every call takes an optional AbortSignal: a cancelled phase must not leave a Docker call
 * waiting behind it (dockerode aborts the HTTP request to the engine).
 */
export class DockerRuntime {
  /**
   * `engineWaitSeconds`: how long a call waits for an engine that is not answering (dockerd
   * restarting; with live-restore its containers keep serving meanwhile). Every public
   * method may run twice: each checks what is there before it changes anything.
   */
  constructor(
    private readonly docker: Docker = new Docker(),
    private readonly engineWaitSeconds = DEFAULT_ENGINE_WAIT_SECONDS,
  ) {}

  async image(ref: string): Promise<ImageInfo> {
    try {
      const info = await this.whenEngineAnswers(() => this.docker.getImage(ref).inspect())
      return { version: info.Config?.Labels?.[VERSION_LABEL] }
    } catch (error) {
      if (statusOf(error) === 404) throw new ImageNotFoundError(ref)
      throw new DockerUnreachableError(errorMessage(error))
    }
  }

  async inspectSlot(service: string, slot: SlotName, signal?: AbortSignal): Promise<SlotContainer | undefined> {
    return this.whenEngineAnswers(() => this.inspectOnce(service, slot, signal), signal)
  }

  /** Runs `call` again while the engine's socket refuses or drops it, up to engineWaitSeconds. */
  private async whenEngineAnswers<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const deadline = Date.now() + this.engineWaitSeconds * 1000
    for (;;) {
      try {
        return await call()
      } catch (error) {
        if (!engineGone(error) || Date.now() >= deadline || signal?.aborted) throw error
        await new Promise((resolve) => setTimeout(resolve, ENGINE_POLL_MS))
      }
    }
  }

  private async inspectOnce(service: string, slot: SlotName, signal?: AbortSignal): Promise<SlotContainer | undefined> {
    try {
      const info = await this.docker.getContainer(containerName(service, slot)).inspect({ abortSignal: signal })
      return {
        id: info.Id,
        image: info.Config.Image,
        running: info.State.Running,
        restarting: info.State.Restarting,
        restartCount: info.RestartCount,
        exitCode: info.State.ExitCode,
      }
    } catch (error) {
      if (statusOf(error) === 404) return undefined
      throw error
    }
  }

  /** Creates and starts a slot's container; an existing one of that name is removed first. */
  async runSlot(spec: SlotSpec, signal?: AbortSignal): Promise<SlotContainer> {
    return this.whenEngineAnswers(() => this.runOnce(spec, signal), signal)
  }

  private async runOnce(spec: SlotSpec, signal?: AbortSignal): Promise<SlotContainer> {
    await this.removeSlot(spec.service, spec.slot, signal)
    const container = await this.docker.createContainer({
      abortSignal: signal,
      name: containerName(spec.service, spec.slot),
      Image: spec.image,
      Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
      Labels: { [MANAGED_LABEL]: 'true', [SERVICE_LABEL]: spec.service, [SLOT_LABEL]: spec.slot },
      StopTimeout: spec.stopTimeoutSeconds,
      HostConfig: { NetworkMode: 'host', RestartPolicy: { Name: 'unless-stopped' } },
    })
    await container.start({ abortSignal: signal })
    const started = await this.inspectSlot(spec.service, spec.slot, signal)
    if (!started) throw new DockerUnreachableError(`container ${containerName(spec.service, spec.slot)} vanished after start`)
    return started
  }

  /**
   * Stops gracefully (SIGTERM, then SIGKILL after the grace period); a stopped slot is left
   * alone. Once asked, the stop itself is not given the signal: the engine finishes a stop
   * even when its request is aborted, so returning early would let an undo find the
   * container still running and hand it requests moments before it goes. It is bounded by
   * `timeoutSeconds` anyway.
   */
  async stopSlot(service: string, slot: SlotName, timeoutSeconds: number, signal?: AbortSignal): Promise<void> {
    const current = await this.inspectSlot(service, slot, signal)
    if (!current?.running) return
    await this.whenEngineAnswers(async () => {
      try {
        await this.docker.getContainer(current.id).stop({ t: timeoutSeconds })
      } catch (error) {
        if (statusOf(error) !== 304) throw error
      }
    })
  }

  async startSlot(service: string, slot: SlotName, signal?: AbortSignal): Promise<void> {
    await this.whenEngineAnswers(async () => {
      try {
        await this.docker.getContainer(containerName(service, slot)).start({ abortSignal: signal })
      } catch (error) {
        if (statusOf(error) !== 304) throw error
      }
    }, signal)
  }

  async removeSlot(service: string, slot: SlotName, signal?: AbortSignal): Promise<void> {
    await this.whenEngineAnswers(async () => {
      try {
        await this.docker.getContainer(containerName(service, slot)).remove({ force: true, abortSignal: signal })
      } catch (error) {
        if (statusOf(error) !== 404) throw error
      }
    }, signal)
  }

  /** Reads the last lines of a slot's log, for error messages when it fails to become healthy. */
  async logTail(service: string, slot: SlotName, lines = 20): Promise<string> {
    try {
      const buffer = (await this.docker.getContainer(containerName(service, slot)).logs({
        stdout: true,
        stderr: true,
        tail: lines,
      })) as unknown as Buffer
      return demultiplex(buffer)
    } catch {
      return ''
    }
  }
}

export const DEFAULT_ENGINE_WAIT_SECONDS = 60
const ENGINE_POLL_MS = 500
const ENGINE_GONE = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE'])

/** The engine did not answer at all (its socket is gone or refuses): dockerd is down or restarting. */
function engineGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  return (code !== undefined && ENGINE_GONE.has(code)) || (error as Error).message === 'socket hang up'
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode
}

/** Docker multiplexes stdout/stderr with an 8-byte header per frame when there is no TTY. */
function demultiplex(buffer: Buffer): string {
  const parts: string[] = []
  let offset = 0
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4)
    parts.push(buffer.subarray(offset + 8, offset + 8 + size).toString())
    offset += 8 + size
  }
  return parts.join('')
}
