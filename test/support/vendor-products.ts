/** Real products' create scripts (test/fixtures/products) loaded and compared on the real MariaDB. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import type mysql from 'mysql2/promise'
import { createTestDatabase } from './test-database.js'

export const PRODUCTS = fileURLToPath(new URL('../fixtures/products', import.meta.url))

/** The vendor's create script in `schema`: its own CREATE DATABASE/USE lines name the vendor's database, so they are left out here. */
export async function loadCreateScript(db: mysql.Connection, schema: string, file: string): Promise<void> {
  const sql = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(CREATE DATABASE|USE)\b/i.test(line))
    .join('\n')
  await db.query(`USE \`${schema}\``)
  await db.query(sql)
}

/** Every table's SHOW CREATE TABLE, AUTO_INCREMENT counters removed, the tables in `except` left out. */
export async function schemaOf(db: mysql.Connection, schema: string, except: readonly string[] = ['app_version']): Promise<Record<string, string>> {
  const [tables] = await db.query<mysql.RowDataPacket[]>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name", [schema])
  const result: Record<string, string> = {}
  for (const { t: table } of tables) {
    if (except.includes(String(table))) continue
    const [rows] = await db.query<mysql.RowDataPacket[]>(`SHOW CREATE TABLE \`${schema}\`.\`${table}\``)
    result[String(table)] = String(rows[0]!['Create Table']).replace(/ AUTO_INCREMENT=\d+/, '')
  }
  return result
}

/** The schema a release's own create script makes, in a schema of its own. */
export async function releaseSchema(t: Test, product: string, release: string): Promise<Record<string, string>> {
  const reference = await createTestDatabase('vendorref')
  t.teardown(reference.cleanup)
  await loadCreateScript(reference.db, reference.schema, join(PRODUCTS, product, 'releases', `create-${release}.sql`))
  return schemaOf(reference.db, reference.schema)
}

/**
 * The schema the vendor's scripts give when run by hand, one after the other with the
 * plain client: where a product's upgrade scripts and its newest create script disagree
 * (column order, a default, a comment, a key the server named), this is what any tool
 * running them gets.
 */
export async function byHand(t: Test, product: string, from: string, scripts: readonly string[]): Promise<Record<string, string>> {
  const reference = await createTestDatabase('vendorhand')
  t.teardown(reference.cleanup)
  await loadCreateScript(reference.db, reference.schema, join(PRODUCTS, product, 'releases', `create-${from}.sql`))
  for (const script of scripts) {
    const sql = readFileSync(join(PRODUCTS, product, 'migrations', script), 'utf8').replace(/^\s*use\s+\w+\s*;\s*$/gim, '')
    await reference.db.query(`USE \`${reference.schema}\``)
    await reference.db.query(sql)
  }
  return schemaOf(reference.db, reference.schema, [])
}

/** Keys in name order: an index put back by an undo, or added in another order, is listed elsewhere by SHOW CREATE TABLE. */
export function keysSorted(schema: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(schema).map(([table, text]) => {
    const lines = text.split('\n').map((line) => line.replace(/,$/, ''))
    const isKey = (line: string): boolean => /^\s+(UNIQUE |FULLTEXT )?KEY /.test(line)
    return [table, [...lines.filter((line) => !isKey(line)), ...lines.filter(isKey).sort()].join('\n')]
  }))
}
