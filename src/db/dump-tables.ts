import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'

/**
 * The CREATE TABLE statements of a dump, read line by line: a dump holds every row too, and
 * only the tables' definitions are wanted, so the file is never held in memory. The dump tool
 * starts each definition on its own line and ends it with a line ending in `;`; everything
 * else (SET, INSERT, views, triggers) is passed over.
 */
export async function readDumpTables(file: string): Promise<string> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })
  const definitions: string[] = []
  let current: string[] | undefined
  for await (const line of lines) {
    if (!current && /^CREATE\s+TABLE\b/i.test(line)) current = []
    if (!current) continue
    current.push(line)
    if (/;\s*$/.test(line)) {
      definitions.push(current.join('\n'))
      current = undefined
    }
  }
  return definitions.join('\n')
}
