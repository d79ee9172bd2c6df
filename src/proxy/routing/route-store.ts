/**
 * The agent's routes on disk, so a restarted agent routes exactly as before. Every save
 * replaces the file atomically: a crash leaves either the old table or the new one.
 */
import { StateFile } from '../../runtime/state-file.js'
import { InvalidInputError } from '../../errors.js'
import { StateFileError, StateWriteError } from '../errors.js'
import { parseServiceRoute } from './route-schema.js'
import type { ServiceRoute } from '../../protocol/routes.js'
import * as v from '../../protocol/validate.js'

const FORMAT_VERSION = 1

export class RouteStore {
  private readonly file: StateFile

  constructor(readonly path: string) {
    this.file = new StateFile(path)
  }

  /** The saved routes; none when the file does not exist yet. */
  async load(): Promise<ServiceRoute[]> {
    const text = await this.file.read().catch((error: unknown) => Promise.reject(new StateFileError(this.path, `cannot read: ${(error as Error).message}`)))
    return text === undefined ? [] : this.parse(text)
  }

  save(routes: readonly ServiceRoute[]): Promise<void> {
    const text = JSON.stringify({ version: FORMAT_VERSION, services: routes }, null, 2) + '\n'
    return this.file.write(text, (error) => new StateWriteError(this.path, error))
  }

  private parse(text: string): ServiceRoute[] {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      throw new StateFileError(this.path, `not valid JSON (${(error as Error).message})`)
    }
    try {
      const body = v.object(json, 'file', ['version', 'services'])
      if (body.version !== FORMAT_VERSION) throw new InvalidInputError('file.version', `must be ${FORMAT_VERSION}`)
      if (!Array.isArray(body.services)) throw new InvalidInputError('file.services', 'must be an array')
      return body.services.map((route, i) => parseServiceRoute(route, `file.services[${i}]`))
    } catch (error) {
      if (error instanceof InvalidInputError) throw new StateFileError(this.path, error.message)
      throw error
    }
  }

}
