import t from 'tap'
import { restoreStatements } from '../../../src/db/ddl/definition-restore.js'
import { parseDefinition, sameDefinition } from '../../../src/db/ddl/table-definition.js'

const BEFORE = parseDefinition(`CREATE TABLE \`t\` (
  \`id\` int(11) NOT NULL AUTO_INCREMENT,
  \`a\` varchar(50) DEFAULT NULL,
  \`b\` int(11) NOT NULL,
  PRIMARY KEY (\`id\`),
  KEY \`b\` (\`b\`),
  CONSTRAINT \`t_b\` FOREIGN KEY (\`b\`) REFERENCES \`p\` (\`id\`) ON DELETE CASCADE
) ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`)

t.test('a definition is read item by item; the AUTO_INCREMENT counter is not part of it', async (t) => {
  t.same(BEFORE.columns.map((column) => column.name), ['id', 'a', 'b'])
  t.same(BEFORE.keys.map((key) => key.name), ['PRIMARY', 'b'])
  t.same(BEFORE.foreignKeys, [{ name: 't_b', line: 'CONSTRAINT `t_b` FOREIGN KEY (`b`) REFERENCES `p` (`id`) ON DELETE CASCADE' }])
  t.equal(BEFORE.options, 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci')
  t.throws(() => parseDefinition('CREATE TABLE `t` (\n  `id` int,\n  PERIOD FOR p (a, b)\n) ENGINE=InnoDB'), { message: /does not know: PERIOD FOR/ }, 'a line it does not know is an error, not skipped')
})

t.test('the foreign keys go first and come back last, each in an ALTER of its own; columns go back by CHANGE', async (t) => {
  const now = parseDefinition(`CREATE TABLE \`t\` (
  \`id\` int(11) NOT NULL AUTO_INCREMENT,
  \`a2\` varchar(20) NOT NULL,
  \`b\` int(11) NOT NULL,
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`b\` (\`b\`),
  CONSTRAINT \`t_b\` FOREIGN KEY (\`b\`) REFERENCES \`p\` (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`)
  t.same(restoreStatements(now, BEFORE, new Map([['a2', 'a']])), [
    'ALTER TABLE `t` DROP FOREIGN KEY `t_b`',
    'ALTER TABLE `t` DROP INDEX `b`, CHANGE COLUMN `a2` `a` varchar(50) DEFAULT NULL, ADD KEY `b` (`b`)',
    'ALTER TABLE `t` ADD CONSTRAINT `t_b` FOREIGN KEY (`b`) REFERENCES `p` (`id`) ON DELETE CASCADE',
  ])
  t.same(restoreStatements(BEFORE, BEFORE), [], 'nothing to do for a table as it was')
  t.ok(sameDefinition(BEFORE, parseDefinition(`CREATE TABLE \`t\` (
  \`id\` int(11) NOT NULL AUTO_INCREMENT,
  \`a\` varchar(50) DEFAULT NULL,
  \`b\` int(11) NOT NULL,
  PRIMARY KEY (\`id\`),
  KEY \`b\` (\`b\`),
  CONSTRAINT \`t_b\` FOREIGN KEY (\`b\`) REFERENCES \`p\` (\`id\`) ON DELETE CASCADE
) ENGINE=InnoDB AUTO_INCREMENT=99 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`)), 'another counter is the same definition')
})

t.test('a column gone and changed table options are refused: a definition cannot bring values back', async (t) => {
  const without = { ...BEFORE, columns: BEFORE.columns.filter((column) => column.name !== 'a') }
  t.throws(() => restoreStatements(without, BEFORE), { message: /column t\.a is gone/ })
  t.throws(() => restoreStatements({ ...BEFORE, options: 'ENGINE=MyISAM' }, BEFORE), { message: /options of t changed/ })
  t.same(restoreStatements(BEFORE, without), ['ALTER TABLE `t` DROP COLUMN `a`'], 'a column added since is dropped')
})
