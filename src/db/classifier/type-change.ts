import { formatType, type ColumnType } from './column-type.js'

/**
 * Whether every value of the old type fits the new one unchanged (`widen`), some may not
 * (`narrow`), or the type changes meaning (`change`: other family, padding, time zone).
 */
export type TypeVerdict = 'same' | 'widen' | 'narrow' | 'change'

export interface TypeChange {
  verdict: TypeVerdict
  /** e.g. "VARCHAR(50) to VARCHAR(100)". */
  detail: string
  /**
   * A narrowing the server carries out by rounding a value in place (fewer decimals, fewer
   * fractional seconds, a smaller float) even in strict mode, instead of refusing it.
   */
  rounds?: true
}

const INT_BYTES: Record<string, number> = { TINYINT: 1, SMALLINT: 2, MEDIUMINT: 3, INT: 4, BIGINT: 8 }
/** Decimal digits an integer type needs, signed and unsigned. */
const INT_DIGITS: Record<string, [number, number]> = { TINYINT: [3, 3], SMALLINT: [5, 5], MEDIUMINT: [7, 8], INT: [10, 10], BIGINT: [19, 20] }
/** Capacity in bytes; a VARCHAR(n) needs up to 4n bytes in utf8mb4. */
const TEXT_BYTES: Record<string, number> = { TINYTEXT: 255, TEXT: 65535, MEDIUMTEXT: 16777215, LONGTEXT: 4294967295 }
const BLOB_BYTES: Record<string, number> = { TINYBLOB: 255, BLOB: 65535, MEDIUMBLOB: 16777215, LONGBLOB: 4294967295 }
const TEMPORAL = new Set(['DATETIME', 'TIMESTAMP', 'TIME'])

type Comparison = (from: ColumnType, to: ColumnType) => TypeVerdict | undefined

/** Tried in order; the first that knows the pair of types answers. */
const COMPARISONS: Comparison[] = [compareCharset, compareIntegers, compareDecimals, compareFloats, compareStrings, compareLists, comparePrecision]

export function compareTypes(from: ColumnType, to: ColumnType): TypeChange {
  const detail = `${formatType(from)} to ${formatType(to)}`
  for (const compare of COMPARISONS) {
    const verdict = compare(from, to)
    if (verdict) {
      const change: TypeChange = { verdict, detail: verdict === 'change' && charsetChanged(from, to) ? `${detail} with another character set or collation` : detail }
      return verdict === 'narrow' && roundsValues(from, to) ? { ...change, rounds: true } : change
    }
  }
  return { verdict: formatType(from) === formatType(to) ? 'same' : 'change', detail }
}

/** Fewer decimals or fractional seconds, or FLOAT from DOUBLE: values are rounded, not refused. */
function roundsValues(from: ColumnType, to: ColumnType): boolean {
  if (from.name === 'DECIMAL' && to.name === 'DECIMAL') return (to.scale ?? 0) < (from.scale ?? 0)
  if (TEMPORAL.has(from.name) && from.name === to.name) return (to.length ?? 0) < (from.length ?? 0)
  return compareFloats(from, to) === 'narrow'
}

function ordered(a: number, b: number): TypeVerdict {
  return a === b ? 'same' : b > a ? 'widen' : 'narrow'
}

/** Combines verdicts of independent aspects: any narrowing narrows, all same is same. */
function combine(...verdicts: TypeVerdict[]): TypeVerdict {
  if (verdicts.includes('change')) return 'change'
  if (verdicts.includes('narrow')) return 'narrow'
  return verdicts.includes('widen') ? 'widen' : 'same'
}

function charsetChanged(from: ColumnType, to: ColumnType): boolean {
  return (to.charset !== undefined && to.charset !== from.charset) || (to.collation !== undefined && to.collation !== from.collation)
}

/** A new character set or collation re-encodes or re-sorts values; not compared further. */
function compareCharset(from: ColumnType, to: ColumnType): TypeVerdict | undefined {
  return charsetChanged(from, to) ? 'change' : undefined
}

function compareIntegers(from: ColumnType, to: ColumnType): TypeVerdict | undefined {
  const a = INT_BYTES[from.name]
  if (a === undefined) return undefined
  const b = INT_BYTES[to.name]
  if (b !== undefined) {
    if (from.unsigned === to.unsigned) return ordered(a, b)
    return from.unsigned && b > a ? 'widen' : 'narrow'
  }
  if (to.name !== 'DECIMAL') return undefined
  const digits = INT_DIGITS[from.name]![from.unsigned ? 1 : 0]
  const integerDigits = (to.length ?? 10) - (to.scale ?? 0)
  return integerDigits >= digits && (!to.unsigned || from.unsigned) ? 'widen' : 'narrow'
}

function compareDecimals(from: ColumnType, to: ColumnType): TypeVerdict | undefined {
  if (from.name !== 'DECIMAL' || to.name !== 'DECIMAL') return undefined
  const [p1, s1, p2, s2] = [from.length ?? 10, from.scale ?? 0, to.length ?? 10, to.scale ?? 0]
  return combine(ordered(p1 - s1, p2 - s2), ordered(s1, s2), from.unsigned && !to.unsigned ? 'widen' : from.unsigned === to.unsigned ? 'same' : 'narrow')
}

function compareFloats(from: ColumnType, to: ColumnType): TypeVerdict | undefined {
  const bytes = (type: ColumnType): number | undefined =>
    type.name === 'DOUBLE' ? 8 : type.name === 'FLOAT' ? ((type.length ?? 0) > 24 ? 8 : 4) : undefined
  const [a, b] = [bytes(from), bytes(to)]
  if (a === undefined || b === undefined) return undefined
  return combine(ordered(a, b), from.unsigned && !to.unsigned ? 'widen' : from.unsigned === to.unsigned ? 'same' : 'narrow')
}

/**
 * CHAR/VARCHAR/TEXT and BINARY/VARBINARY/BLOB, by capacity. A fixed-width target pads what
 * it stores: CHAR strips the spaces again on read, BINARY keeps its zero bytes, so only
 * CHAR to a longer CHAR widens.
 */
function compareStrings(from: ColumnType, to: ColumnType): TypeVerdict | undefined {
  const a = stringCapacity(from)
  const b = stringCapacity(to)
  if (!a || !b || a.binary !== b.binary) return undefined
  // BINARY keeps the zero bytes it padded with: the same value reads back and compares
  // differently once stored in a variable-length type.
  if (a.fixed && a.binary && !(from.name === to.name && a.bytes === b.bytes)) return 'change'
  if (b.fixed && !(from.name === 'CHAR' && to.name === 'CHAR')) return from.name === to.name && a.bytes === b.bytes ? 'same' : 'change'
  const verdict = ordered(a.bytes, b.bytes)
  return verdict === 'same' && from.name !== to.name ? 'widen' : verdict
}

function stringCapacity(type: ColumnType): { bytes: number; binary: boolean; fixed: boolean } | undefined {
  const perChar = type.name.includes('BINARY') ? 1 : 4
  switch (type.name) {
    case 'CHAR':
    case 'BINARY':
      return { bytes: (type.length ?? 1) * perChar, binary: perChar === 1, fixed: true }
    case 'VARCHAR':
    case 'VARBINARY':
      return { bytes: (type.length ?? 0) * perChar, binary: perChar === 1, fixed: false }
  }
  if (TEXT_BYTES[type.name] !== undefined) return { bytes: TEXT_BYTES[type.name]!, binary: false, fixed: false }
  if (BLOB_BYTES[type.name] !== undefined) return { bytes: BLOB_BYTES[type.name]!, binary: true, fixed: false }
  return undefined
}

/**
 * ENUM and SET: the server maps every stored value to its new position when the list
 * changes, so values added anywhere (appended or mid-list) widen; a value removed narrows;
 * the same values in another order change how ORDER BY sorts them.
 */
function compareLists(from: ColumnType, to: ColumnType): TypeVerdict | undefined {
  if (!(from.name === to.name && (from.name === 'ENUM' || from.name === 'SET'))) return undefined
  const old = from.values ?? []
  const next = to.values ?? []
  if (!old.every((value) => next.includes(value))) return 'narrow'
  if (!isSubsequence(old, next)) return 'change'
  return next.length === old.length ? 'same' : 'widen'
}

function isSubsequence(part: readonly string[], whole: readonly string[]): boolean {
  let at = 0
  for (const value of whole) if (value === part[at]) at++
  return at === part.length
}

/** DATETIME/TIMESTAMP/TIME fractional seconds and BIT length: more is wider. */
function comparePrecision(from: ColumnType, to: ColumnType): TypeVerdict | undefined {
  if (from.name !== to.name || !(TEMPORAL.has(from.name) || from.name === 'BIT')) return undefined
  const fallback = from.name === 'BIT' ? 1 : 0
  return ordered(from.length ?? fallback, to.length ?? fallback)
}
