import { readFile } from 'node:fs/promises'
import { writeFileAtomically } from './atomic-write.js'

/**
 * One of the agent's state files (routes, watched runs, schedules): read whole, replaced
 * atomically, and written one save after another so an older text never overwrites a newer
 * one. The stores around it own the format and the errors an operator reads.
 */
export class StateFile {
  private queue: Promise<void> = Promise.resolve()

  constructor(readonly path: string) {}

  /** The file's text; undefined when it does not exist yet. */
  async read(): Promise<string | undefined> {
    try {
      return await readFile(this.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  /** Queued behind every earlier write; `wrap` turns a failure into the store's own error. */
  write(text: string, wrap: (error: unknown) => Error): Promise<void> {
    const write = this.queue.then(() => writeFileAtomically(this.path, text).catch((error: unknown) => Promise.reject(wrap(error))))
    this.queue = write.catch(() => undefined)
    return write
  }

  /** Settles once every write asked for so far is done. */
  flushed(): Promise<void> {
    return this.queue
  }
}
