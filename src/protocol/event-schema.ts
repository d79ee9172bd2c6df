/**
 * Checks an upgrade event reported over the admin API before it becomes metrics. The
 * fields come from the event table (events.ts); this file only says how each kind of field
 * is checked. Fields that end up as label values (service, phase) must be short plain
 * names, so a bad report cannot blow up the series count. Fields this agent does not know
 * are ignored, so a newer `handover` can report to an older agent.
 */
import { CAPTURE_MODES, RUN_MODES, RUN_RESULTS, STATEMENT_ALGORITHMS, STATEMENT_OUTCOMES, STATEMENT_PARTS, UPGRADE_EVENT_TYPES, UPGRADE_EVENTS, type EventFieldKind, type EventFieldTypes, type UpgradeEvent } from './events.js'
import { SLOT_NAMES } from './routes.js'
import * as v from './validate.js'

const MAX_DURATION_SECONDS = 7 * 24 * 3600
const MAX_COUNT = Number.MAX_SAFE_INTEGER
const MAX_LABEL_LENGTH = 1024
const MAX_LABELS = 256

const CHECKS: { [K in EventFieldKind]: (value: unknown, where: string) => EventFieldTypes[K] } = {
  phase: v.name,
  version: (value, where) => v.text(value, where, 128),
  seconds: (value, where) => v.finite(value, where, 0, MAX_DURATION_SECONDS),
  flag: v.boolean,
  code: (value, where) => v.text(value, where, 128),
  message: (value, where) => v.text(value, where, 4000, 0),
  result: (value, where) => v.oneOf(value, where, RUN_RESULTS),
  mode: (value, where) => v.oneOf(value, where, RUN_MODES),
  count: (value, where) => v.integer(value, where, 0, MAX_COUNT),
  slot: (value, where) => v.oneOf(value, where, SLOT_NAMES),
  part: (value, where) => v.oneOf(value, where, STATEMENT_PARTS),
  algorithm: (value, where) => v.oneOf(value, where, STATEMENT_ALGORITHMS),
  capture: (value, where) => v.oneOf(value, where, CAPTURE_MODES),
  outcome: (value, where) => v.oneOf(value, where, STATEMENT_OUTCOMES),
  label: (value, where) => v.text(value, where, MAX_LABEL_LENGTH),
  labels: (value, where) => v.texts(value, where, MAX_LABELS, MAX_LABEL_LENGTH),
}

export function parseUpgradeEvent(value: unknown, where: string): UpgradeEvent {
  const body = v.record(value, where)
  const type = v.oneOf(body.type, `${where}.type`, UPGRADE_EVENT_TYPES)
  const event: Record<string, unknown> = { type, service: v.name(body.service, `${where}.service`), runId: v.text(body.runId, `${where}.runId`, 128) }
  for (const [field, spec] of Object.entries(UPGRADE_EVENTS[type]) as [string, string][]) {
    const optional = spec.endsWith('?')
    if (optional && body[field] === undefined) continue
    const kind = (optional ? spec.slice(0, -1) : spec) as EventFieldKind
    event[field] = CHECKS[kind](body[field], `${where}.${field}`)
  }
  // Every field of the type's table row was checked above with the check of its kind.
  return event as UpgradeEvent
}
