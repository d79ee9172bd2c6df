import t from 'tap'
import { IllegalTransitionError } from '../../../src/proxy/errors.js'
import { allowedFrom, canTransition, transition } from '../../../src/proxy/routing/slot-state.js'
import { SLOT_STATES, type SlotState } from '../../../src/protocol/routes.js'

const LEGAL: ReadonlyArray<[SlotState, SlotState]> = [
  ['active', 'draining'],
  ['active', 'disabled'],
  ['draining', 'disabled'],
  ['draining', 'active'],
  ['disabled', 'active'],
  ['disabled', 'buffering'],
  ['buffering', 'active'],
  ['buffering', 'disabled'],
]

t.test('the whole table: exactly the planned changes are legal', async (t) => {
  for (const from of SLOT_STATES) {
    for (const to of SLOT_STATES) {
      const legal = from === to || LEGAL.some(([a, b]) => a === from && b === to)
      t.equal(canTransition(from, to), legal, `${from} -> ${to}`)
    }
  }
})

t.test('transition returns the new state or throws a typed error naming the options', async (t) => {
  t.equal(transition('shop', 'green', 'disabled', 'buffering'), 'buffering')
  t.equal(transition('shop', 'green', 'active', 'active'), 'active', 'staying put is idempotent')
  const error = t.throws(() => transition('shop', 'blue', 'active', 'buffering'))
  t.ok(error instanceof IllegalTransitionError)
  const illegal = error as IllegalTransitionError
  t.equal(illegal.code, 'ILLEGAL_TRANSITION')
  t.same([illegal.service, illegal.slot, illegal.from, illegal.to], ['shop', 'blue', 'active', 'buffering'])
  t.match(illegal.message, /draining, disabled/)
  t.same(allowedFrom('draining'), ['disabled', 'active'])
})
