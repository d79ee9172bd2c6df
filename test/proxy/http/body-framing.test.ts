import t from 'tap'
import { BodyFraming } from '../../../src/proxy/http/body-framing.js'
import { HeadError } from '../../../src/proxy/errors.js'

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

/** What is forwarded of `body` read in pieces split at `splits`, and where the message ended in the last piece. */
function forwardedIn(body: Buffer, splits: number[]): { sent: string; end: number } {
  const framing = new BodyFraming(400)
  framing.reset('chunked', -1)
  const cuts = [0, ...splits, body.length]
  let sent = ''
  for (let k = 0; k + 1 < cuts.length; k++) {
    const piece = body.subarray(cuts[k], cuts[k + 1])
    const end = framing.scan(piece, 0)
    sent += framing.forwardable(piece, 0, end === -1 ? piece.length : end).toString('latin1')
    if (end !== -1) return { sent, end: cuts[k]! + end }
  }
  return { sent, end: -1 }
}

t.test('trailer fields are dropped from what is forwarded, wherever the reads split them', async (t) => {
  const body = Buffer.from('5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\nX-Other: two words\r\n\r\nNEXT', 'latin1')
  const want = '5;ext=1\r\nhello\r\n0\r\n\r\n'
  let checked = 0
  for (let a = 1; a < body.length - 4; a++) {
    for (let b = a + 1; b < body.length - 4; b += 3) {
      const { sent, end } = forwardedIn(body, [a, b])
      if (sent !== want || end !== body.length - 4) t.fail(`split at ${a}, ${b}: forwarded ${JSON.stringify(sent)}, ended at ${end}`)
      checked++
    }
  }
  t.ok(checked > 100, `${checked} ways to split, each forwards the body without its trailers`)
  t.equal(forwardedIn(Buffer.from('0\r\n\r\n'), []).sent, '0\r\n\r\n', 'a body without trailers is forwarded as it came')
})

t.test('chunk extensions: the grammar of RFC 9112 §7.1.1 is accepted, anything else refused', async (t) => {
  const accepted = [';a', ';a=b', ' ;a=b', '\t; a = b', ';a="q \\" s"', ';a;b=c', ';a="";b', ';a=b ;c']
  const refused = [';a=b c', ';', ' ', ';a ', ';=b', ';a="open', ';a=b"', ';a\x01', ';a=\x7f', '; a =']
  const scan = (ext: string): unknown => {
    const framing = new BodyFraming(400)
    framing.reset('chunked', -1)
    try {
      return framing.scan(Buffer.from(`5${ext}\r\nhello\r\n0\r\n\r\n`, 'latin1'), 0)
    } catch (error) {
      return error
    }
  }
  for (const ext of accepted) t.type(scan(ext), 'number', `accepted: ${JSON.stringify(ext)}`)
  for (const ext of refused) t.type(scan(ext), HeadError, `refused: ${JSON.stringify(ext)}`)
  t.type(scan(`;a=${'x'.repeat(1021)}`), 'number', 'an extension of 1,024 bytes is accepted')
  t.type(scan(`;a=${'x'.repeat(1022)}`), HeadError, 'one of 1,025 is refused')
})
