import t from 'tap'
import { classifyStatement, type Part } from '../../../src/db/classifier/index.js'
import { SHOP_SCHEMA } from './fixtures/shop-schema.js'

/**
 * Real-world MySQL/MariaDB migration statements with the class they must get. `schema`
 * classifies against SHOP_SCHEMA (fixtures/shop-schema.ts) as the live schema; otherwise none is given.
 */
interface Case {
  sql: string
  part: Part
  kind: string
  reason: string
  schema?: true
}

const CASES: Case[] = [
  // CREATE TABLE
  { sql: 'CREATE TABLE audit_log (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(200) NOT NULL, created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4', part: 'expand', kind: 'create-table', reason: 'creates table audit_log' },
  { sql: 'CREATE TABLE IF NOT EXISTS `shop`.`invoices` (`id` INT NOT NULL, `order_id` INT NOT NULL, PRIMARY KEY (`id`), KEY `idx_order` (`order_id`), CONSTRAINT `fk_inv_order` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`))', part: 'expand', kind: 'create-table', reason: 'creates table invoices' },
  { sql: 'CREATE TABLE orders_archive LIKE orders', part: 'expand', kind: 'create-table', reason: 'creates table orders_archive like orders' },
  { sql: "CREATE TABLE settings (name VARCHAR(64) PRIMARY KEY, value TEXT, kind ENUM('string','int') NOT NULL DEFAULT 'string')", part: 'expand', kind: 'create-table', reason: 'the old version does not know the table' },
  // ADD COLUMN
  { sql: 'ALTER TABLE orders ADD COLUMN note2 VARCHAR(255) NULL', part: 'expand', kind: 'add-column', reason: 'adds nullable column orders.note2 VARCHAR(255)' },
  { sql: 'ALTER TABLE orders ADD shipped_at DATETIME', part: 'expand', kind: 'add-column', reason: 'adds nullable column orders.shipped_at' },
  { sql: "ALTER TABLE `orders` ADD COLUMN `channel` ENUM('web','app') NOT NULL DEFAULT 'web' AFTER `status`, ALGORITHM=INSTANT, LOCK=NONE", part: 'expand', kind: 'add-column', reason: "orders.channel ENUM('web','app') with a default" },
  { sql: "ALTER TABLE orders ADD COLUMN total_cents BIGINT NOT NULL DEFAULT 0 COMMENT 'money in cents'", part: 'expand', kind: 'add-column', reason: 'with a default' },
  { sql: 'ALTER TABLE orders ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP', part: 'expand', kind: 'add-column', reason: 'with a default' },
  { sql: 'ALTER TABLE orders ADD COLUMN total_with_tax DECIMAL(12,2) GENERATED ALWAYS AS (total * 1.2) VIRTUAL', part: 'expand', kind: 'add-column', reason: 'filled by the server' },
  { sql: 'ALTER TABLE orders ADD COLUMN seq BIGINT NOT NULL AUTO_INCREMENT UNIQUE', part: 'expand', kind: 'add-column', reason: 'filled by the server' },
  { sql: 'ALTER TABLE orders ADD COLUMN flag TINYINT(1) NOT NULL DEFAULT 0 FIRST', part: 'expand', kind: 'add-column', reason: 'orders.flag TINYINT(1) with a default' },
  { sql: 'ALTER TABLE shop.orders ADD COLUMN external_id VARCHAR(64) NULL UNIQUE', part: 'expand', kind: 'add-column', reason: 'adds nullable column orders.external_id' },
  { sql: 'ALTER TABLE orders ADD COLUMN IF NOT EXISTS coupon VARCHAR(32) NULL', part: 'expand', kind: 'add-column', reason: 'orders.coupon' },
  { sql: 'ALTER TABLE orders WAIT 5 ADD COLUMN region CHAR(2) NULL', part: 'expand', kind: 'add-column', reason: 'orders.region CHAR(2)' },
  { sql: 'ALTER TABLE orders ADD COLUMN a INT NULL, ADD COLUMN b INT NULL, ADD INDEX idx_ab (a, b)', part: 'expand', kind: 'alter-table', reason: 'adds index idx_ab to orders on (a, b)' },
  { sql: 'ALTER TABLE orders ADD COLUMN customer_ref INT NOT NULL', part: 'contract', kind: 'add-not-null-column', reason: 'adds NOT NULL column orders.customer_ref INT without a default' },
  { sql: 'ALTER TABLE orders ADD COLUMN sku VARCHAR(32) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE', part: 'contract', kind: 'add-not-null-column', reason: "the old version's inserts do not set it" },
  { sql: 'ALTER TABLE orders ADD COLUMN slug VARCHAR(64) NOT NULL DEFAULT NULL', part: 'contract', kind: 'add-not-null-column', reason: 'without a default' },
  { sql: "ALTER TABLE orders ADD COLUMN token CHAR(32) NOT NULL DEFAULT '' UNIQUE", part: 'contract', kind: 'add-unique-index', reason: 'declared unique' },
  // DROP / RENAME COLUMN
  { sql: 'ALTER TABLE shop.orders DROP COLUMN legacy_flag', part: 'contract', kind: 'drop-column', reason: 'drops column orders.legacy_flag' },
  { sql: 'ALTER TABLE `orders` DROP `note`', part: 'contract', kind: 'drop-column', reason: 'the old version still reads or writes it' },
  { sql: 'ALTER TABLE orders DROP COLUMN IF EXISTS note', part: 'contract', kind: 'drop-column', reason: 'drops column orders.note' },
  { sql: 'ALTER TABLE orders DROP COLUMN a, DROP COLUMN b, ALGORITHM=INSTANT', part: 'contract', kind: 'drop-column', reason: 'drops column orders.b' },
  { sql: 'ALTER TABLE orders RENAME COLUMN note TO remark', part: 'contract', kind: 'rename-column', reason: 'renames column orders.note to remark' },
  { sql: 'ALTER TABLE orders CHANGE COLUMN note remark VARCHAR(50) NULL', part: 'contract', kind: 'rename-column', reason: 'renames column orders.note to remark' },
  { sql: 'ALTER TABLE orders CHANGE `note` `remark` VARCHAR(500)', part: 'contract', kind: 'rename-column', reason: 'the old version still uses the old name', schema: true },
  // MODIFY / CHANGE with the current schema
  { sql: 'ALTER TABLE orders MODIFY COLUMN note VARCHAR(100) NULL', part: 'expand', kind: 'widen-column', reason: 'widens orders.note from VARCHAR(50) to VARCHAR(100)', schema: true },
  { sql: 'ALTER TABLE orders MODIFY note VARCHAR(100), ALGORITHM=INPLACE, LOCK=NONE', part: 'expand', kind: 'widen-column', reason: 'VARCHAR(50) to VARCHAR(100)', schema: true },
  { sql: 'ALTER TABLE orders CHANGE note note TEXT NULL', part: 'expand', kind: 'widen-column', reason: 'VARCHAR(50) to TEXT', schema: true },
  { sql: 'ALTER TABLE orders MODIFY id BIGINT NOT NULL', part: 'expand', kind: 'widen-column', reason: 'widens orders.id from INT(11) to BIGINT', schema: true },
  { sql: 'ALTER TABLE orders MODIFY qty INT UNSIGNED NOT NULL DEFAULT 1', part: 'expand', kind: 'widen-column', reason: 'SMALLINT(5) UNSIGNED to INT UNSIGNED', schema: true },
  { sql: 'ALTER TABLE orders MODIFY qty INT NOT NULL DEFAULT 1', part: 'expand', kind: 'widen-column', reason: 'to INT', schema: true },
  { sql: 'ALTER TABLE orders MODIFY total DECIMAL(14,2) NOT NULL DEFAULT 0', part: 'expand', kind: 'widen-column', reason: 'DECIMAL(10,2) to DECIMAL(14,2)', schema: true },
  { sql: "ALTER TABLE orders MODIFY status ENUM('new','paid','shipped','refunded') NOT NULL DEFAULT 'new', ALGORITHM=INSTANT", part: 'expand', kind: 'widen-column', reason: "to ENUM('new','paid','shipped','refunded')", schema: true },
  { sql: "ALTER TABLE orders MODIFY tags SET('gift','rush','fragile') NULL", part: 'expand', kind: 'widen-column', reason: "SET('gift','rush') to SET('gift','rush','fragile')", schema: true },
  { sql: 'ALTER TABLE orders MODIFY code VARCHAR(16) NULL', part: 'expand', kind: 'widen-column', reason: 'CHAR(8) to VARCHAR(16)', schema: true },
  { sql: 'ALTER TABLE orders MODIFY created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)', part: 'expand', kind: 'widen-column', reason: 'DATETIME to DATETIME(3)', schema: true },
  { sql: 'ALTER TABLE users MODIFY score DOUBLE NULL', part: 'expand', kind: 'widen-column', reason: 'FLOAT to DOUBLE', schema: true },
  { sql: 'ALTER TABLE users MODIFY email VARCHAR(191) NULL', part: 'expand', kind: 'drop-not-null', reason: 'makes users.email nullable', schema: true },
  { sql: "ALTER TABLE orders MODIFY note VARCHAR(50) NULL COMMENT 'free text'", part: 'expand', kind: 'restate-column', reason: 'restates orders.note', schema: true },
  { sql: 'ALTER TABLE orders MODIFY note VARCHAR(20) NULL', part: 'contract', kind: 'narrow-column', reason: 'narrows orders.note from VARCHAR(50) to VARCHAR(20)', schema: true },
  { sql: 'ALTER TABLE orders MODIFY amount INT NULL', part: 'contract', kind: 'narrow-column', reason: 'BIGINT(20) to INT', schema: true },
  { sql: 'ALTER TABLE users MODIFY id BIGINT NOT NULL', part: 'contract', kind: 'narrow-column', reason: 'BIGINT(20) UNSIGNED to BIGINT', schema: true },
  { sql: 'ALTER TABLE orders MODIFY customer_id BIGINT UNSIGNED NOT NULL', part: 'contract', kind: 'narrow-column', reason: 'INT(11) to BIGINT UNSIGNED', schema: true },
  { sql: 'ALTER TABLE orders MODIFY total DECIMAL(10,1) NOT NULL DEFAULT 0', part: 'contract', kind: 'narrow-column', reason: 'DECIMAL(10,2) to DECIMAL(10,1)', schema: true },
  { sql: "ALTER TABLE orders MODIFY status ENUM('new','shipped') NOT NULL DEFAULT 'new'", part: 'contract', kind: 'narrow-column', reason: "ENUM('new','paid','shipped') to ENUM('new','shipped')", schema: true },
  { sql: "ALTER TABLE orders MODIFY status ENUM('new','shipped','paid') NOT NULL DEFAULT 'new'", part: 'contract', kind: 'change-column-type', reason: 'the old version reads and writes the old type', schema: true },
  { sql: "ALTER TABLE orders MODIFY status ENUM('draft','new','paid','shipped') NOT NULL DEFAULT 'new'", part: 'expand', kind: 'widen-column', reason: 'widens orders.status', schema: true },
  { sql: 'ALTER TABLE users MODIFY bio VARCHAR(500) NULL', part: 'contract', kind: 'narrow-column', reason: 'TEXT to VARCHAR(500)', schema: true },
  { sql: 'ALTER TABLE orders MODIFY note VARCHAR(50) NOT NULL', part: 'contract', kind: 'set-not-null', reason: 'makes orders.note NOT NULL', schema: true },
  { sql: "ALTER TABLE orders MODIFY note VARCHAR(80) NOT NULL DEFAULT ''", part: 'contract', kind: 'set-not-null', reason: 'makes orders.note NOT NULL, and widens orders.note', schema: true },
  { sql: "ALTER TABLE orders MODIFY status ENUM('new','paid','shipped') NOT NULL", part: 'contract', kind: 'drop-default', reason: 'removes the default of NOT NULL column orders.status', schema: true },
  { sql: 'ALTER TABLE orders MODIFY code INT NULL', part: 'contract', kind: 'change-column-type', reason: 'changes the type of orders.code from CHAR(8) to INT', schema: true },
  { sql: 'ALTER TABLE orders MODIFY note CHAR(60) NULL', part: 'contract', kind: 'change-column-type', reason: 'VARCHAR(50) to CHAR(60)', schema: true },
  { sql: 'ALTER TABLE users MODIFY uuid BINARY(32) NULL', part: 'contract', kind: 'change-column-type', reason: 'BINARY(16) to BINARY(32)', schema: true },
  { sql: 'ALTER TABLE orders MODIFY ref VARCHAR(64) CHARACTER SET latin1 NULL', part: 'contract', kind: 'change-column-type', reason: 'with another character set or collation', schema: true },
  { sql: 'ALTER TABLE orders MODIFY ref VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL', part: 'expand', kind: 'widen-column', reason: 'VARCHAR(64) to VARCHAR(128)', schema: true },
  { sql: 'ALTER TABLE orders MODIFY missing_col INT NULL', part: 'contract', kind: 'modify-column', reason: 'orders.missing_col is not in the schema', schema: true },
  // MODIFY without the current schema: conservative
  { sql: 'ALTER TABLE orders MODIFY COLUMN note VARCHAR(500) NULL', part: 'contract', kind: 'modify-column', reason: 'needs the current column type' },
  { sql: "ALTER TABLE orders MODIFY status ENUM('new','paid','shipped','refunded') NOT NULL DEFAULT 'new'", part: 'contract', kind: 'modify-column', reason: 'needs the current column type' },
  { sql: 'ALTER TABLE users MODIFY email VARCHAR(320) NOT NULL', part: 'contract', kind: 'modify-column', reason: 'no schema model gives table users' },
  // RENAME / DROP TABLE
  { sql: 'RENAME TABLE orders TO orders_old', part: 'contract', kind: 'rename-table', reason: 'renames table orders to orders_old' },
  { sql: 'RENAME TABLE orders TO orders_old, orders_new TO orders', part: 'contract', kind: 'rename-table', reason: 'renames table orders_new to orders' },
  { sql: 'ALTER TABLE orders RENAME TO purchase_orders', part: 'contract', kind: 'rename-table', reason: 'the old version still uses the old name' },
  { sql: 'DROP TABLE old_orders', part: 'contract', kind: 'drop-table', reason: 'drops table old_orders' },
  { sql: 'DROP TABLE IF EXISTS `shop`.`tmp_import`, tmp_export', part: 'contract', kind: 'drop-table', reason: 'drops table tmp_export' },
  { sql: 'TRUNCATE TABLE sessions', part: 'contract', kind: 'truncate-table', reason: 'empties table sessions' },
  // Indexes and keys
  { sql: 'ALTER TABLE orders ADD INDEX idx_created (created_at), ALGORITHM=INPLACE, LOCK=NONE', part: 'expand', kind: 'add-index', reason: 'adds index idx_created to orders on (created_at)' },
  { sql: 'ALTER TABLE orders ADD KEY idx_cust_created (customer_id, created_at)', part: 'expand', kind: 'add-index', reason: 'an index changes no result' },
  { sql: 'ALTER TABLE orders ADD FULLTEXT INDEX ft_note (note)', part: 'expand', kind: 'add-index', reason: 'adds fulltext index ft_note' },
  { sql: 'ALTER TABLE orders ADD INDEX IF NOT EXISTS idx_status (status)', part: 'expand', kind: 'add-index', reason: 'idx_status' },
  { sql: 'CREATE INDEX idx_email ON users (email)', part: 'expand', kind: 'add-index', reason: 'adds index idx_email to users on (email)' },
  { sql: 'CREATE INDEX idx_name_prefix ON users (name(10)) ALGORITHM=INPLACE LOCK=NONE', part: 'expand', kind: 'add-index', reason: 'on (name)' },
  { sql: 'CREATE INDEX IF NOT EXISTS idx_age ON users (age)', part: 'expand', kind: 'add-index', reason: 'idx_age' },
  { sql: 'CREATE UNIQUE INDEX uq_email ON users (email)', part: 'contract', kind: 'add-unique-index', reason: 'the old version may write duplicates' },
  { sql: 'ALTER TABLE orders ADD UNIQUE KEY uq_ref (ref)', part: 'contract', kind: 'add-unique-index', reason: 'adds unique index uq_ref' },
  { sql: 'ALTER TABLE orders ADD CONSTRAINT uq_code UNIQUE (code)', part: 'contract', kind: 'add-unique-index', reason: 'uq_code' },
  { sql: 'ALTER TABLE orders DROP PRIMARY KEY, ADD PRIMARY KEY (id, customer_id)', part: 'contract', kind: 'alter-table', reason: 'drops the primary key of orders' },
  { sql: 'ALTER TABLE order_lines ADD PRIMARY KEY (order_id, line_no)', part: 'contract', kind: 'add-primary-key', reason: 'adds primary key to order_lines on (order_id, line_no)' },
  { sql: 'ALTER TABLE order_lines DROP INDEX `PRIMARY`', part: 'contract', kind: 'drop-primary-key', reason: 'the old version may rely on it for lookups and uniqueness' },
  { sql: 'ALTER TABLE orders DROP INDEX idx_created', part: 'contract', kind: 'drop-index', reason: 'drops index idx_created of orders' },
  { sql: 'ALTER TABLE orders DROP KEY idx_cust', part: 'contract', kind: 'drop-index', reason: 'a query of the old version may need it' },
  { sql: 'DROP INDEX idx_email ON users', part: 'contract', kind: 'drop-index', reason: 'drops index idx_email of users' },
  { sql: 'DROP INDEX IF EXISTS idx_email ON users', part: 'contract', kind: 'drop-index', reason: 'idx_email' },
  { sql: 'ALTER TABLE orders DROP INDEX IF EXISTS idx_old', part: 'contract', kind: 'drop-index', reason: 'idx_old' },
  // Foreign keys and checks
  { sql: 'ALTER TABLE orders ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE', part: 'contract', kind: 'add-foreign-key', reason: 'adds foreign key fk_orders_customer to orders' },
  { sql: 'ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id)', part: 'contract', kind: 'add-foreign-key', reason: 'may write rows that violate it' },
  { sql: 'ALTER TABLE orders DROP FOREIGN KEY fk_orders_customer', part: 'contract', kind: 'drop-foreign-key', reason: 'drops foreign key fk_orders_customer of orders' },
  { sql: 'ALTER TABLE orders ADD CONSTRAINT chk_total CHECK (total >= 0)', part: 'contract', kind: 'add-check', reason: 'adds check constraint chk_total' },
  { sql: 'ALTER TABLE orders DROP CONSTRAINT chk_total', part: 'contract', kind: 'drop-constraint', reason: 'drops constraint chk_total' },
  // DML (on its own: nothing was added before it)
  { sql: 'UPDATE users SET email = LOWER(email)', part: 'contract', kind: 'dml', reason: 'updates users (users.email exists before this script)' },
  { sql: "INSERT INTO settings (name, value) VALUES ('maintenance', '0') ON DUPLICATE KEY UPDATE value = VALUES(value)", part: 'contract', kind: 'dml', reason: 'writes into settings' },
  { sql: 'DELETE FROM sessions WHERE expires_at < NOW()', part: 'contract', kind: 'dml', reason: 'deletes rows of sessions' },
  { sql: 'REPLACE INTO settings (name, value) VALUES (\'x\', \'1\')', part: 'contract', kind: 'dml', reason: 'it changes rows the old version still reads or writes' },
  { sql: 'UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.note = c.name WHERE o.note IS NULL', part: 'contract', kind: 'dml', reason: 'updates orders' },
]

t.test(`classifies ${CASES.length} real-world statements`, async (t) => {
  t.ok(CASES.length >= 60)
  for (const c of CASES) {
    const result = classifyStatement({ sql: c.sql, line: 1 }, c.schema ? { schema: SHOP_SCHEMA } : {})
    t.same({ part: result.part, kind: result.kind }, { part: c.part, kind: c.kind }, c.sql)
    t.match(result.reason, c.reason, `reason of: ${c.sql}`)
  }
})

t.test('structured facts for the executor', async (t) => {
  const drop = classifyStatement({ sql: 'ALTER TABLE `shop`.`orders` DROP COLUMN `legacy_flag`', line: 4 })
  t.match(drop, { table: 'orders', database: 'shop', column: 'legacy_flag', touches: [{ table: 'orders', column: 'legacy_flag' }] })
  const rename = classifyStatement({ sql: 'RENAME TABLE orders TO orders_old', line: 1 })
  t.match(rename, { table: 'orders', newName: 'orders_old' })
  const renameColumn = classifyStatement({ sql: 'ALTER TABLE orders RENAME COLUMN note TO remark', line: 1 })
  t.match(renameColumn, { table: 'orders', column: 'note', newName: 'remark' })
  const dropTables = classifyStatement({ sql: 'DROP TABLE a, b', line: 1 })
  t.same(dropTables.clauses.map((clause) => clause.table), ['a', 'b'])
  t.equal(dropTables.table, undefined, 'no single table for a statement on two')
  const index = classifyStatement({ sql: 'DROP INDEX idx_email ON users', line: 1 })
  t.match(index, { table: 'users', index: 'idx_email' })
})
