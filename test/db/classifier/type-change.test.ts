import t from 'tap'
import { parseColumnType } from '../../../src/db/classifier/parse.js'
import { compareTypes, type TypeVerdict } from '../../../src/db/classifier/type-change.js'

const type = (sql: string) => {
  const parsed = parseColumnType(sql)
  if (!parsed) throw new Error(`unreadable type ${sql}`)
  return parsed
}

const CASES: [string, string, TypeVerdict][] = [
  ['varchar(50)', 'varchar(100)', 'widen'],
  ['varchar(100)', 'varchar(50)', 'narrow'],
  ['varchar(50)', 'VARCHAR(50)', 'same'],
  ['char(8)', 'char(10)', 'widen'],
  ['char(8)', 'varchar(8)', 'widen'],
  ['varchar(8)', 'char(8)', 'change'],
  ['binary(16)', 'binary(32)', 'change'],
  ['binary(16)', 'varbinary(16)', 'change'],
  ['binary(20)', 'varbinary(32)', 'change'],
  ['varbinary(16)', 'blob', 'widen'],
  ['varchar(255)', 'text', 'widen'],
  ['varchar(20000)', 'text', 'narrow'],
  ['varchar(20000)', 'mediumtext', 'widen'],
  ['text', 'mediumtext', 'widen'],
  ['longtext', 'text', 'narrow'],
  ['varchar(10)', 'varbinary(10)', 'change'],
  ['tinyint', 'smallint', 'widen'],
  ['int(11)', 'int', 'same'],
  ['int', 'bigint', 'widen'],
  ['bigint', 'int', 'narrow'],
  ['int unsigned', 'bigint', 'widen'],
  ['int unsigned', 'int', 'narrow'],
  ['int', 'int unsigned', 'narrow'],
  // A wider unsigned type still has no room for negative values: signed to unsigned narrows whatever the widths.
  ['int', 'bigint unsigned', 'narrow'],
  ['tinyint', 'int unsigned', 'narrow'],
  ['int unsigned', 'bigint unsigned', 'widen'],
  ['smallint unsigned', 'int', 'widen'],
  ['integer', 'int', 'same'],
  ['boolean', 'tinyint(1)', 'same'],
  ['int', 'decimal(10,0)', 'widen'],
  ['int', 'decimal(12,2)', 'widen'],
  ['bigint', 'decimal(18,0)', 'narrow'],
  ['decimal(10,2)', 'decimal(12,2)', 'widen'],
  ['decimal(10,2)', 'decimal(11,3)', 'widen'],
  ['decimal(10,2)', 'decimal(10,3)', 'narrow'],
  ['numeric(8,2)', 'decimal(8,2)', 'same'],
  ['float', 'double', 'widen'],
  ['double', 'float', 'narrow'],
  ['float(30)', 'double', 'same'],
  ['int', 'double', 'change'],
  ["enum('a','b')", "enum('a','b','c')", 'widen'],
  ["enum('a','b')", "enum('b','a')", 'change'],
  ["enum('a','b')", "enum('a')", 'narrow'],
  ["enum('a','b')", "enum('x','a','b')", 'widen'],
  ["enum('it''s')", "enum('it''s','b')", 'widen'],
  ["set('a')", "set('a','b')", 'widen'],
  ["enum('a')", "set('a')", 'change'],
  ['datetime', 'datetime(6)', 'widen'],
  ['timestamp(6)', 'timestamp(3)', 'narrow'],
  ['timestamp', 'datetime', 'change'],
  ['date', 'datetime', 'change'],
  ['bit(1)', 'bit(8)', 'widen'],
  ['json', 'json', 'same'],
  ['json', 'text', 'change'],
  ['varchar(10) character set latin1', 'varchar(20) character set utf8mb4', 'change'],
]

t.test('compares old and new column types', async (t) => {
  for (const [from, to, verdict] of CASES) t.equal(compareTypes(type(from), type(to)).verdict, verdict, `${from} -> ${to}`)
})

t.test('the detail names both types', async (t) => {
  t.equal(compareTypes(type('varchar(50)'), type('varchar(100)')).detail, 'VARCHAR(50) to VARCHAR(100)')
  t.equal(compareTypes(type('int unsigned'), type("enum('a')")).detail, "INT UNSIGNED to ENUM('a')")
})

t.test('a narrowing says whether the server rounds values in place (no definition brings them back) or refuses them in strict mode', async (t) => {
  const rounds: [string, string, boolean][] = [
    ['decimal(10,3)', 'decimal(10,2)', true],
    ['datetime(6)', 'datetime(3)', true],
    ['double', 'float', true],
    ['decimal(12,2)', 'decimal(10,2)', false],
    ['varchar(500)', 'varchar(64)', false],
    ['bigint', 'int', false],
    ["enum('a','b')", "enum('a')", false],
  ]
  for (const [from, to, expected] of rounds) t.equal(compareTypes(type(from), type(to)).rounds === true, expected, `${from} → ${to}`)
})
