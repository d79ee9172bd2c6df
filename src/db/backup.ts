import { spawn } from 'node:child_process'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, open, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises'
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
/** `signal` kills the dump tool (a cancelled phase must not leave it running). */
export async function dumpSchema(connection: Connection, config: DatabaseConfig, dir: string, label: string, signal?: AbortSignal): Promise<Backup> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await checkFreeSpace(connection, config.schema, dir)
  const file = join(dir, `${config.schema}-${label}.sql`)
  await withClientOptions(config, (options) =>
    runClientTool(dumpTool(), [...options, '--single-transaction', '--routines', '--triggers', '--databases', config.schema], { stdout: file }, signal),
  )
  return { file, bytes: (await stat(file)).size }
}

/** The dumps of `schema` in `dir`, newest first. */
export async function listBackups(dir: string, schema: string): Promise<(Backup & { modified: Date })[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return []
    throw error
  })
  const backups = await Promise.all(
    names
      .filter((name) => name.startsWith(`${schema}-`) && name.endsWith('.sql'))
      .map(async (name) => {
        const info = await stat(join(dir, name))
        return { file: join(dir, name), bytes: info.size, modified: info.mtime }
      }),
  )
  return backups.sort((a, b) => b.modified.getTime() - a.modified.getTime())
}

/**
 * Puts the schema back exactly as dumped: the schema is dropped first, so tables created
 * after the dump do not survive the restore. The dump must be of this schema.
 */
export async function restoreBackup(config: DatabaseConfig, file: string): Promise<void> {
  const head = await readHead(file, 4096)
  if (!head.includes(`CREATE DATABASE /*!32312 IF NOT EXISTS*/ \`${config.schema}\``)) {
    throw new BackupFailedError(`${file} is not a dump of schema ${config.schema} made by handover; nothing was changed`)
  }
  await withClientOptions(config, async (options) => {
    await runClientTool(clientTool(), [...options, '-e', `DROP DATABASE IF EXISTS \`${config.schema}\``], {})
    await runClientTool(clientTool(), options, { stdin: file })
  })
}

async function readHead(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'r').catch(() => {
    throw new BackupFailedError(`cannot read ${file}; nothing was changed`)
  })
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(bytes), 0, bytes, 0)
    return buffer.subarray(0, bytesRead).toString('utf8')
  } finally {
    await handle.close()
  }
}

/** Connection options for the server's command-line tools; the password goes in a 0600 file. */
async function withClientOptions<T>(config: DatabaseConfig, work: (options: string[]) => Promise<T>): Promise<T> {
  const secretsDir = await mkdtemp(join(tmpdir(), 'handover-client-'))
  const defaultsFile = join(secretsDir, 'client.cnf')
  try {
    const password = resolveSecret(config.password, 'database.password')
    await writeFile(defaultsFile, `[client]\npassword="${password.replace(/(["\\])/g, '\\$1')}"\n`, { mode: 0o600 })
    return await work([`--defaults-extra-file=${defaultsFile}`, `--host=${config.host}`, `--port=${config.port}`, `--user=${config.user}`, '--protocol=tcp'])
  } finally {
    await rm(secretsDir, { recursive: true, force: true })
  }
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

function runClientTool(tool: string, args: string[], io: { stdin?: string; stdout?: string }, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: [io.stdin ? 'pipe' : 'ignore', io.stdout ? 'pipe' : 'ignore', 'pipe'], ...(signal ? { signal } : {}) })
    let stderr = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    if (io.stdin) createReadStream(io.stdin).pipe(child.stdin!)
    const out = io.stdout ? createWriteStream(io.stdout, { mode: 0o600 }) : undefined
    if (out) child.stdout!.pipe(out)
    child.on('error', (error) => reject(new BackupFailedError(`cannot run ${tool}: ${error.message}`)))
    child.on('close', (code) => {
      const finish = (): void => {
        if (code === 0) resolve()
        else reject(new BackupFailedError(`${tool} exited with ${code}: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`))
      }
      if (out) out.close(finish)
      else finish()
    })
  })
}

function dumpTool(): string {
  return process.env.HANDOVER_DUMP_TOOL ?? 'mariadb-dump'
}

function clientTool(): string {
  return process.env.HANDOVER_CLIENT_TOOL ?? 'mariadb'
}
