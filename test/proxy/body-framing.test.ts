import t from 'tap'
import { BodyFraming } from '../../src/proxy/body-framing.js'
import { HeadError } from '../../src/proxy/errors.js'

t.test('a chunked body ends exactly after its last chunk and trailers, however it is split', async (t) => {
  const body = Buffer.from('5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT')
  for (let split = 1; split < body.length - 4; split++) {
    const framing = new BodyFraming(400)
    framing.reset('chunked', -1)
    const first = framing.scan(body.subarray(0, split), 0)
    const end = first === -1 ? split + framing.scan(body.subarray(split), 0) : first
    if (end !== body.length - 4) t.fail(`split at ${split}: ended at ${end}`)
  }
  t.pass('every split point finds the same end')
})

t.test('a length body ends after its length; a close-delimited one never ends in a scan', async (t) => {
  const framing = new BodyFraming(400)
  framing.reset('length', 5)
  t.equal(framing.scan(Buffer.from('abc'), 0), -1)
  t.equal(framing.scan(Buffer.from('deNEXT'), 0), 2)
  framing.reset('close', -1)
  t.equal(framing.scan(Buffer.from('anything'), 0), -1)
  framing.reset('none', -1)
  t.equal(framing.scan(Buffer.from('NEXT'), 0), 0)
})

t.test('malformed chunked bodies are refused with the status the caller chose', async (t) => {
  for (const text of ['x\r\n', '5\r\nhelloXX', '5\nhello', '12345678901234\r\n', '0\r\nbad trailer\rX']) {
    const framing = new BodyFraming(502)
    framing.reset('chunked', -1)
    const error = (() => {
      try {
        framing.scan(Buffer.from(text), 0)
      } catch (e) {
        return e
      }
      return undefined
    })()
    t.ok(error instanceof HeadError && error.status === 502, JSON.stringify(text))
  }
})
