/**
 * The one place that says which slot-state changes are legal. Everything that changes a
 * slot's state (admin API, flip, release, route replacement) asks `transition` first, so
 * a state the upgrade runner did not plan for is refused instead of silently routed.
 */
import { IllegalTransitionError } from '../errors.js'
import type { SlotName, SlotState } from '../../protocol/routes.js'

const ALLOWED: Readonly<Record<SlotState, readonly SlotState[]>> = {
  // Taking a slot out: drain it gently, or cut it when it is already broken.
  active: ['draining', 'disabled'],
  // A drained slot is stopped; an undo before the stop puts it back.
  draining: ['disabled', 'active'],
  // A recreated slot either serves at once or starts holding requests for a flip.
  disabled: ['active', 'buffering'],
  // The buffer is released to this slot, or the flip is undone.
  buffering: ['active', 'disabled'],
}

export function allowedFrom(from: SlotState): readonly SlotState[] {
  return ALLOWED[from]
}

/** Staying in the same state is allowed so that retried admin calls are idempotent. */
export function canTransition(from: SlotState, to: SlotState): boolean {
  return from === to || ALLOWED[from].includes(to)
}

export function transition(service: string, slot: SlotName, from: SlotState, to: SlotState): SlotState {
  if (!canTransition(from, to)) throw new IllegalTransitionError(service, slot, from, to, ALLOWED[from])
  return to
}
