/** An orders table with old rows, for tests of what happens to the old version's writes. */
import type { Test } from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import type { OrderState, WriterReport } from '../../scripts/lib/order-writer.js'
import type { TestDatabase } from './test-database.js'

export const SEED_ROWS = 20_000
export const CUSTOMERS = 50

export async function seedOrders(test: TestDatabase): Promise<Map<number, OrderState>> {
  await test.db.query(`CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL) ENGINE=InnoDB;
    INSERT INTO customers SELECT seq, CONCAT('customer-', seq) FROM seq_1_to_${CUSTOMERS};
    CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, amount DECIMAL(12,2) NOT NULL, customer_id INT NOT NULL) ENGINE=InnoDB;
    INSERT INTO orders (id, amount, customer_id) SELECT seq, (seq % 997) + 0.5, 1 + seq % ${CUSTOMERS} FROM seq_1_to_${SEED_ROWS}`)
  const seeded = new Map<number, OrderState>()
  for (let id = 1; id <= SEED_ROWS; id++) seeded.set(id, { amount: ((id % 997) + 0.5).toFixed(2), customerId: 1 + (id % CUSTOMERS) })
  return seeded
}

/** Every row the writers know is in the table with the new column computed from its last acknowledged state. */
export async function assertRowsMatch(t: Test, test: TestDatabase, writer: WriterReport, column: string, expectedValue: (state: OrderState) => string) {
  const [rows] = await test.db.query<RowDataPacket[]>(`SELECT id, ${column} AS value FROM \`${test.schema}\`.orders`)
  const actual = new Map(rows.map((row) => [Number(row.id), row.value === null ? null : String(row.value)]))
  const lost: string[] = []
  for (const [id, state] of writer.expected) {
    const want = state === null ? undefined : expectedValue(state)
    const got = actual.get(id)
    if (want === undefined ? actual.has(id) : got !== want) lost.push(`${id}: want ${want ?? '(deleted)'}, got ${got === undefined ? '(missing)' : got}`)
  }
  t.same(lost.slice(0, 10), [], `every acknowledged write is in ${column} (${writer.expected.size} rows checked, ${lost.length} wrong)`)
  t.equal(rows.length, [...writer.expected.values()].filter((state) => state !== null).length, 'no row more, no row less')
}

/** An amount written as `123.45`, in cents, exactly. */
export const toCents = (amount: string): number => {
  const [whole = '0', fraction = ''] = amount.split('.')
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0').slice(0, 2))
}
export const cents = (state: OrderState): string => String(toCents(state.amount))

