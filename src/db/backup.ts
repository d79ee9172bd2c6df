import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, rm, statfs, writeFile, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import type { DatabaseConfig } from '../config/config.js'
import { resolveSecret } from '../config/secrets.js'
import { HandoverError } from '../errors.js'
import type { Connection } from './connection.js'

export class BackupFailedError extends HandoverError {
  readonly code = 'BACKUP_FAILED'
}

export interface Backup {
  file: string
  bytes: number
}

/**
 * A consistent logical dump of the application schema with the server's own dump tool.
 * The password reaches the tool through a 0600 defaults file, never its argv.
 */
export async function dumpSchema(connection: Connection, config: DatabaseConfig, dir: string, label: string): Promise<Backup> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await checkFreeSpace(connection, config.schema, dir)
  const file = join(dir, `${config.schema}-${label}.sql`)
  const secretsDir = await mkdtemp(join(tmpdir(), 'handover-dump-'))
  const defaultsFile = join(secretsDir, 'client.cnf')
  try {
    const password = resolveSecret(config.password, 'database.password')
    await writeFile(defaultsFile, `[client]\npassword="${password.replace(/(["\\])/g, '\\$1')}"\n`, { mode: 0o600 })
    await runDump(
      [
        `--defaults-extra-file=${defaultsFile}`,
        `--host=${config.host}`,
        `--port=${config.port}`,
        `--user=${config.user}`,
        '--protocol=tcp',
        '--single-transaction',
        '--routines',
        '--triggers',
        '--databases',
        config.schema,
      ],
      file,
    )
  } finally {
    await rm(secretsDir, { recursive: true, force: true })
  }
  return { file, bytes: (await stat(file)).size }
}

async function checkFreeSpace(connection: Connection, schema: string, dir: string): Promise<void> {
  const [rows] = await connection.query<RowDataPacket[]>(
    'SELECT COALESCE(SUM(data_length + index_length), 0) AS bytes FROM information_schema.tables WHERE table_schema = ?',
    [schema],
  )
  const needed = Number(rows[0]?.bytes ?? 0) * 2
  const fs = await statfs(dir)
  const free = fs.bavail * fs.bsize
  if (free < needed) {
    throw new BackupFailedError(`backup directory ${dir} has ${free} bytes free; the dump of ${schema} needs about ${needed}`)
  }
}

function runDump(args: string[], file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(dumpTool(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const out = createWriteStream(file, { mode: 0o600 })
    let stderr = ''
    child.stdout.pipe(out)
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on('error', (error) => reject(new BackupFailedError(`cannot run ${dumpTool()}: ${error.message}`)))
    child.on('close', (code) => {
      out.close(() => {
        if (code === 0) resolve()
        else reject(new BackupFailedError(`${dumpTool()} exited with ${code}: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`))
      })
    })
  })
}

function dumpTool(): string {
  return process.env.HANDOVER_DUMP_TOOL ?? 'mariadb-dump'
}
