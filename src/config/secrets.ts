import { readFileSync } from 'node:fs'
import { InvalidInputError } from '../errors.js'
import type { SecretSource } from './config.js'

/**
 * Resolves a secret at the moment it is needed. The error names where the value was
 * expected, never the value.
 */
export function resolveSecret(source: SecretSource, field: string, env: NodeJS.ProcessEnv = process.env): string {
  if ('fromEnv' in source) {
    const value = env[source.fromEnv]
    if (value === undefined || value === '') {
      throw new InvalidInputError(field, `environment variable ${source.fromEnv} is not set`)
    }
    return value
  }
  try {
    return readFileSync(source.fromFile, 'utf8').replace(/\r?\n$/, '')
  } catch (error) {
    throw new InvalidInputError(field, `cannot read secret file ${source.fromFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}
