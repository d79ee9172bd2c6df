import { isMap, isSeq, LineCounter, type Document } from 'yaml'
import { InvalidInputError } from '../errors.js'

type Path = readonly (string | number)[]

/**
 * Reads typed fields out of a parsed YAML document. Every complaint names the file, the
 * line and the dotted field, so an SRE can go straight to the mistake.
 */
export class FieldReader {
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  fail(path: Path, problem: string): never {
    throw new InvalidInputError(this.where(path), problem)
  }

  string(path: Path, fallback?: string): string {
    const value = this.value(path, fallback)
    if (typeof value !== 'string' || value === '') this.fail(path, 'must be a non-empty string')
    return value
  }

  /** A non-empty string, or undefined when the field is absent. */
  optionalString(path: Path): string | undefined {
    return this.doc.hasIn(path) ? this.string(path) : undefined
  }

  /** A scalar as text: env values may be written unquoted (`PORT: 8080`, `DEBUG: true`). */
  scalarText(path: Path): string {
    const value = this.value(path, undefined)
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value)
    this.fail(path, 'must be a string, number or boolean')
  }

  int(path: Path, min: number, max: number, fallback?: number): number {
    const value = this.value(path, fallback)
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(path, `must be an integer from ${min} to ${max}`)
    }
    return value
  }

  bool(path: Path, fallback?: boolean): boolean {
    const value = this.value(path, fallback)
    if (typeof value !== 'boolean') this.fail(path, 'must be true or false')
    return value
  }

  /** A list of non-empty strings; none when the field is absent. */
  strings(path: Path): string[] {
    if (!this.doc.hasIn(path)) return []
    const node = this.doc.getIn(path, true)
    if (!isSeq(node)) this.fail(path, 'must be a list')
    return node.items.map((_, i) => this.string([...path, i]))
  }

  /** A map's keys, refusing any key not in `allowed` so typos do not pass silently. */
  keys(path: Path, allowed?: readonly string[]): string[] {
    const node = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true)
    if (node === undefined || node === null) return []
    if (!isMap(node)) this.fail(path, 'must be a mapping')
    const keys = node.items.map((pair) => String((pair.key as { value?: unknown })?.value ?? pair.key))
    for (const key of keys) {
      if (allowed && !allowed.includes(key)) {
        this.fail([...path, key], `unknown key (expected one of: ${allowed.join(', ')})`)
      }
    }
    return keys
  }

  private value(path: Path, fallback: unknown): unknown {
    if (!this.doc.hasIn(path)) {
      if (fallback === undefined) this.fail(path, 'is required')
      return fallback
    }
    return this.doc.getIn(path)
  }

  private where(path: Path): string {
    const field = path.join('.') || '(top level)'
    const line = this.lineOf(path)
    return line ? `${this.file}:${line}: ${field}` : `${this.file}: ${field}`
  }

  private lineOf(path: Path): number | undefined {
    for (let depth = path.length; depth > 0; depth--) {
      const node = this.doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined
      if (node?.range) return this.lines.linePos(node.range[0]).line
    }
    return undefined
  }
}
