import type { Part } from './types.js'

/**
 * The policy of DESIGN.md section 6 in one table: every kind of change, the part it belongs
 * to, and why. Rules decide the kind of a statement; only this table decides its part, so
 * the policy can be read (and changed) in one place.
 */
export const KINDS = {
  'create-table': { part: 'expand', why: 'the old version does not know the table' },
  'add-column': { part: 'expand', why: 'the old version does not name it and its inserts still succeed' },
  'add-index': { part: 'expand', why: 'an index changes no result the old version sees' },
  'widen-column': { part: 'expand', why: 'every value the old version writes still fits' },
  'drop-not-null': { part: 'expand', why: 'every value the old version writes is still valid' },
  'restate-column': { part: 'expand', why: 'type, nullability and default stay as they are' },
  'add-auto-increment': { part: 'expand', why: "the old version's inserts that give the value still succeed, and those that leave it out now get one" },
  'replace-index': { part: 'expand', why: 'the index is dropped and added back in one ALTER, so no query of the old version is ever without it, and it is no stricter than before' },
  'table-options': { part: 'expand', why: 'columns, keys and values stay as they are' },
  'convert-charset': { part: 'expand', why: 'every character the old version stores has a place in the new character set' },
  'read-only': { part: 'expand', why: 'it reads and changes nothing' },
  'no-op': { part: 'expand', why: 'it changes nothing in the schema the chain has reached' },
  backfill: { part: 'expand', why: 'it writes only what this script added, which the old version never reads' },
  'drop-table': { part: 'contract', why: 'the old version still reads or writes it' },
  'rename-table': { part: 'contract', why: 'the old version still uses the old name' },
  'truncate-table': { part: 'contract', why: 'it deletes rows the old version still reads' },
  'drop-column': { part: 'contract', why: 'the old version still reads or writes it' },
  'rename-column': { part: 'contract', why: 'the old version still uses the old name' },
  'add-not-null-column': { part: 'contract', why: "the old version's inserts do not set it and would fail" },
  'set-not-null': { part: 'contract', why: 'the old version may still write NULL' },
  'drop-default': { part: 'contract', why: "the old version's inserts that leave the column out would fail" },
  'narrow-column': { part: 'contract', why: 'values the old version writes may no longer fit' },
  'change-column-type': { part: 'contract', why: 'the old version reads and writes the old type' },
  'modify-column': {
    part: 'contract',
    why: 'it needs the current column type to tell widening from narrowing; give a schema model to classify it exactly',
  },
  'drop-auto-increment': { part: 'contract', why: "the old version's inserts that leave the column out would fail" },
  'convert-charset-narrow': { part: 'contract', why: 'characters the old version stores may have no place in the new character set' },
  'drop-index': { part: 'contract', why: 'a query of the old version may need it' },
  'add-unique-index': { part: 'contract', why: 'the old version may write duplicates, and its writes would fail' },
  'add-primary-key': { part: 'contract', why: 'the old version may write duplicates, and its writes would fail' },
  'drop-primary-key': { part: 'contract', why: 'the old version may rely on it for lookups and uniqueness' },
  'add-foreign-key': { part: 'contract', why: 'the old version may write rows that violate it, and its writes would fail' },
  'drop-foreign-key': { part: 'contract', why: 'the old version may rely on its checks or cascades' },
  'add-check': { part: 'contract', why: 'the old version may write rows that violate it, and its writes would fail' },
  'drop-constraint': { part: 'contract', why: 'the old version may rely on it' },
  dml: { part: 'contract', why: 'it changes rows the old version still reads or writes' },
} as const satisfies Record<string, { part: Part; why: string }>

export type Kind = keyof typeof KINDS
