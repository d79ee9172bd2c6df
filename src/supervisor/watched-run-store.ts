/**
 * The runs the agent watches, on disk next to its route table: a restarted agent (systemd
 * restarts it) keeps watching a run whose runner died while it was down.
 */
import { InvalidInputError } from '../errors.js'
import { StateFileError, StateWriteError } from '../proxy/errors.js'
import { parseRunLease, type RunLease } from '../protocol/run-leases.js'
import * as v from '../protocol/validate.js'
import { StateFile } from '../runtime/state-file.js'

const FORMAT_VERSION = 1

export interface StoredRun extends RunLease {
  takeovers: number
  gaveUp: boolean
}

export class WatchedRunStore {
  private readonly file: StateFile

  constructor(readonly path: string) {
    this.file = new StateFile(path)
  }

  async load(): Promise<StoredRun[]> {
    const text = await this.file.read().catch((error: unknown) => Promise.reject(new StateFileError(this.path, `cannot read: ${(error as Error).message}`)))
    if (text === undefined) return []
    try {
      const body = v.object(JSON.parse(text), 'file', ['version', 'runs'])
      if (body.version !== FORMAT_VERSION) throw new InvalidInputError('file.version', `must be ${FORMAT_VERSION}`)
      if (!Array.isArray(body.runs)) throw new InvalidInputError('file.runs', 'must be an array')
      return body.runs.map((entry, i) => {
        const where = `file.runs[${i}]`
        const fields = v.object(entry, where, ['runId', 'service', 'configFile', 'cwd', 'leaseSeconds', 'takeovers', 'gaveUp'])
        const { runId, takeovers, gaveUp, ...lease } = fields
        return { ...parseRunLease(lease, where, String(runId)), takeovers: v.integer(takeovers, `${where}.takeovers`, 0, 1_000_000), gaveUp: v.boolean(gaveUp, `${where}.gaveUp`) }
      })
    } catch (error) {
      if (error instanceof InvalidInputError || error instanceof SyntaxError) throw new StateFileError(this.path, error.message)
      throw error
    }
  }

  /** Settles once every save asked for so far is done. */
  flushed(): Promise<void> {
    return this.file.flushed()
  }

  save(runs: readonly StoredRun[]): Promise<void> {
    const text = JSON.stringify({ version: FORMAT_VERSION, runs }, null, 2) + '\n'
    return this.file.write(text, (error) => new StateWriteError(this.path, error))
  }
}
