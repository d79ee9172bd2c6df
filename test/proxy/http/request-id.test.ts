import t, { type Test } from 'tap'
import { nextRequestId, REQUEST_ID_LENGTH, writeRequestId } from '../../../src/proxy/http/request-id.js'

function text(t: Test, n: number): string {
  const out = Buffer.alloc(REQUEST_ID_LENGTH + 2, '.')
  const end = writeRequestId(out, 1, n)
  t.equal(end, REQUEST_ID_LENGTH + 1, 'ends where it says')
  t.equal(out.toString('latin1', 0, 1) + out.toString('latin1', end), '..', 'writes nothing outside its place')
  return out.toString('latin1', 1, end)
}

t.test('an id is a random prefix and the counter in 12 hex digits, in the UUID v4 shape', async (t) => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-([0-9a-f]{12})$/
  t.equal(uuid.exec(text(t, 1))?.[1], '000000000001')
  t.equal(uuid.exec(text(t, 0xabcdef))?.[1], '000000abcdef', 'the low 24 bits')
  t.equal(uuid.exec(text(t, 0x1000000))?.[1], '000001000000', 'the first of the high 24 bits')
  t.equal(uuid.exec(text(t, 0x123456789abc))?.[1], '123456789abc')
  t.equal(uuid.exec(text(t, 0xffffffffffff))?.[1], 'ffffffffffff', 'the largest counter')
})

t.test('ids count up from 1 (0 means "none yet")', async (t) => {
  const first = nextRequestId()
  t.ok(first >= 1)
  t.equal(nextRequestId(), first + 1)
})
