import t from 'tap'
import { classifyStatement, ScriptClassifier, type SchemaModel } from '../../../src/db/classifier/index.js'

/**
 * Statements of the kinds vendors' upgrade scripts use (docs/vendor-scripts.md), each with
 * the class it must get against VENDOR_SCHEMA, and the wrong class it must not.
 */
const VENDOR_SCHEMA: SchemaModel = {
  tables: {
    t: {
      id: { type: 'int(11)', nullable: false, hasDefault: false, autoIncrement: true, primaryKey: true },
      k: { type: 'int(11)', nullable: false, hasDefault: false },
      h: { type: 'binary(20)', nullable: true, hasDefault: false },
      name: { type: 'varchar(50)', nullable: true, hasDefault: false, charset: 'utf8mb3', collation: 'utf8mb3_general_ci' },
      legacy: { type: 'varchar(50)', nullable: true, hasDefault: false, charset: 'latin1', collation: 'latin1_swedish_ci' },
      changed_at: { type: 'timestamp', nullable: false, hasDefault: true },
    },
    p: {
      k: { type: 'int(11)', nullable: false, hasDefault: false, primaryKey: true },
      v: { type: 'varchar(20)', nullable: true, hasDefault: false, charset: 'utf8mb4', collation: 'utf8mb4_general_ci' },
    },
  },
  indexes: {
    t: [
      { name: 'PRIMARY', unique: true, columns: [{ column: 'id' }] },
      { name: 'by_name', unique: false, columns: [{ column: 'name' }] },
      { name: 'uk_name', unique: true, columns: [{ column: 'name', length: 10 }, { column: 'k' }] },
    ],
    p: [{ name: 'PRIMARY', unique: true, columns: [{ column: 'k' }] }],
  },
}

const CASES: { sql: string; part: 'expand' | 'contract'; kind: string; reason: RegExp }[] = [
  // AUTO_INCREMENT removed: the old version's inserts that leave the id out fail (ERROR 1364).
  { sql: 'ALTER TABLE t MODIFY id INT', part: 'contract', kind: 'drop-auto-increment', reason: /removes AUTO_INCREMENT from t\.id: the old version's inserts that leave the column out would fail/ },
  { sql: 'ALTER TABLE t MODIFY id INT NOT NULL', part: 'contract', kind: 'drop-auto-increment', reason: /removes AUTO_INCREMENT/ },
  { sql: 'ALTER TABLE p MODIFY k INT NOT NULL AUTO_INCREMENT', part: 'expand', kind: 'add-auto-increment', reason: /makes p\.k AUTO_INCREMENT: the old version's inserts that give the value still succeed/ },
  { sql: 'ALTER TABLE t MODIFY h VARBINARY(32)', part: 'contract', kind: 'change-column-type', reason: /BINARY\(20\) to VARBINARY\(32\)/ },
  // Table options keep columns, keys and values.
  { sql: 'ALTER TABLE t ENGINE=InnoDB', part: 'expand', kind: 'table-options', reason: /ENGINE=INNODB on t: columns, keys and values stay/ },
  { sql: 'ALTER TABLE t AUTO_INCREMENT=1000', part: 'expand', kind: 'table-options', reason: /AUTO_INCREMENT=1000/ },
  { sql: 'ALTER TABLE t ROW_FORMAT=DYNAMIC', part: 'expand', kind: 'table-options', reason: /ROW_FORMAT=DYNAMIC/ },
  { sql: 'ALTER TABLE t DEFAULT CHARSET=utf8mb4', part: 'expand', kind: 'table-options', reason: /for columns added later/ },
  // CONVERT TO CHARACTER SET: to a superset is expand, to a smaller set contract.
  { sql: 'ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4', part: 'expand', kind: 'convert-charset', reason: /from utf8mb3, latin1 to utf8mb4: every character the old version stores has a place/ },
  { sql: 'ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', part: 'expand', kind: 'convert-charset', reason: /\(utf8mb4_unicode_ci\)/ },
  { sql: 'ALTER TABLE p CONVERT TO CHARACTER SET latin1', part: 'contract', kind: 'convert-charset-narrow', reason: /from utf8mb4 to latin1: characters the old version stores may have no place/ },
  // An index dropped and added back in one ALTER: expand when it is no stricter.
  { sql: 'ALTER TABLE t DROP INDEX by_name, ADD INDEX by_name (name)', part: 'expand', kind: 'replace-index', reason: /no query of the old version is ever without it/ },
  { sql: 'ALTER TABLE t DROP INDEX by_name, ADD INDEX by_name (name, k)', part: 'expand', kind: 'replace-index', reason: /on \(name, k\)/ },
  { sql: 'ALTER TABLE t DROP INDEX uk_name, ADD UNIQUE INDEX uk_name (name, k)', part: 'expand', kind: 'replace-index', reason: /a unique key on \(name, k\)/ },
  { sql: 'ALTER TABLE t DROP INDEX uk_name, ADD UNIQUE INDEX uk_name (name(10))', part: 'contract', kind: 'alter-table', reason: /the old version may write duplicates/ },
  { sql: 'ALTER TABLE t DROP INDEX by_name, ADD UNIQUE INDEX by_name (name)', part: 'contract', kind: 'alter-table', reason: /adds unique index by_name/ },
  // DROP TABLE IF EXISTS: a no-op only when the chain's schema lacks the table.
  { sql: 'DROP TABLE IF EXISTS nothing_here', part: 'expand', kind: 'no-op', reason: /it changes nothing in the schema the chain has reached/ },
  { sql: 'DROP TABLE IF EXISTS t', part: 'contract', kind: 'drop-table', reason: /drops table t/ },
  // Banners and reads.
  { sql: "SELECT 'Upgrading MetaStore schema' AS MESSAGE", part: 'expand', kind: 'read-only', reason: /changes nothing/ },
  { sql: 'SELECT COUNT(*) FROM t', part: 'expand', kind: 'read-only', reason: /changes nothing/ },
  // Self-assignments alone still make an UPDATE of existing rows.
  { sql: 'UPDATE t SET changed_at = changed_at, name = name WHERE k = 1', part: 'contract', kind: 'dml', reason: /updates t/ },
]

t.test(`classifies ${CASES.length} vendor-style statements`, async (t) => {
  for (const c of CASES) {
    const result = classifyStatement({ sql: c.sql, line: 1 }, { schema: VENDOR_SCHEMA })
    t.same({ part: result.part, kind: result.kind }, { part: c.part, kind: c.kind }, c.sql)
    t.match(result.reason, c.reason, `reason of: ${c.sql}`)
  }
})

t.test('a backfill with `c = c` self-assignments writes only the column the script added: expand', async (t) => {
  const script = new ScriptClassifier({ schema: VENDOR_SCHEMA })
  script.classify({ sql: 'ALTER TABLE t ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0', line: 1 })
  const backfill = script.classify({ sql: 'UPDATE t SET deleted_at = -id, changed_at = changed_at WHERE k = 1', line: 2 })
  t.same({ part: backfill.part, kind: backfill.kind }, { part: 'expand', kind: 'backfill' })
  t.match(backfill.reason, /backfills t\.deleted_at, added earlier in this script/)
  t.notMatch(backfill.reason, /changed_at/, 'the self-assignment is not counted as a write')
  const other = script.classify({ sql: 'UPDATE t SET deleted_at = -id, name = UPPER(name) WHERE k = 1', line: 3 })
  t.equal(other.part, 'contract', 'a real write of an existing column keeps it in the contract')
})

t.test('DROP TABLE IF EXISTS then CREATE TABLE of a table the chain lacks: both expand', async (t) => {
  const script = new ScriptClassifier({ schema: VENDOR_SCHEMA })
  const drop = script.classify({ sql: 'DROP TABLE IF EXISTS AuditLog', line: 1 })
  const create = script.classify({ sql: 'CREATE TABLE AuditLog (id INT PRIMARY KEY)', line: 2 })
  t.same([drop.kind, drop.part, create.kind, create.part], ['no-op', 'expand', 'create-table', 'expand'])
  const again = script.classify({ sql: 'DROP TABLE IF EXISTS AuditLog', line: 3 })
  t.same([again.kind, again.part], ['drop-table', 'expand'], 'once the chain has created it, dropping it is a real drop, of a table the old version never uses')
})

t.test('the chain carries AUTO_INCREMENT: removed then added back is judged against the reached schema', async (t) => {
  const script = new ScriptClassifier({ schema: VENDOR_SCHEMA })
  t.equal(script.classify({ sql: 'ALTER TABLE t MODIFY id INT NOT NULL', line: 1 }).kind, 'drop-auto-increment')
  t.equal(script.classify({ sql: 'ALTER TABLE t MODIFY id INT NOT NULL AUTO_INCREMENT', line: 2 }).kind, 'add-auto-increment')
})
