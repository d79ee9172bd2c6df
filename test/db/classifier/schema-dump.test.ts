/**
 * A dump's tables as the classifier sees them: a CREATE TABLE the grammar cannot read (an
 * INET6 column, system versioning) still says the table exists, so a later `DROP TABLE IF
 * EXISTS` of it is the real drop it is, not a no-op.
 */
import t from 'tap'
import { schemaFromDump } from '../../../src/db/classifier/schema-dump.js'
import { parseScript } from '../../../src/db/migrations/scripts/migration-script.js'

const DUMP = `CREATE TABLE \`hosts\` (
  \`id\` int(11) NOT NULL,
  \`address\` inet6 DEFAULT NULL,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE \`people\` (
  \`id\` int(11) NOT NULL AUTO_INCREMENT,
  \`name\` varchar(40) DEFAULT NULL,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
`

function kindsOf(sql: string): string[] {
  const script = parseScript('/m/v2.sql', 'v2.sql', sql, { state: schemaFromDump(DUMP) })
  return [...script.parts.expand, ...script.parts.contract].map((statement) => `${statement.classified?.kind}`)
}

t.test('a table whose definition cannot be read is present, with columns unknown', async (t) => {
  const state = schemaFromDump(DUMP)
  t.equal(state.tableAbsent('hosts'), false)
  t.match(state.column('hosts', 'address'), { missing: /columns of hosts are not known/ })
  t.match(state.column('people', 'name'), { found: { nullable: true, added: false } }, 'a readable table keeps its columns')
  t.equal(state.tableAbsent('tags'), true, 'a table not in the dump is absent')
})

t.test('DROP TABLE IF EXISTS of it is a drop; of a table not in the dump, a no-op', async (t) => {
  t.same(kindsOf('DROP TABLE IF EXISTS hosts;\n'), ['drop-table'])
  t.same(kindsOf('DROP TABLE IF EXISTS tags;\n'), ['no-op'])
})
