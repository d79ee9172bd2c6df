import { backup } from '../phases/backup.js'
import { contract } from '../phases/contract.js'
import { disableStandby } from '../phases/disable-standby.js'
import { expand } from '../phases/expand.js'
import { finalize } from '../phases/finalize.js'
import { flip } from '../phases/flip.js'
import { preflight } from '../phases/preflight.js'
import { upgradeOld } from '../phases/upgrade-old.js'
import { upgradeStandby } from '../phases/upgrade-standby.js'
import { verify } from '../phases/verify.js'
import type { Phase } from './upgrade-context.js'

/** The one place that defines the order of a strict upgrade (DESIGN.md section 5). */
export const STRICT_PHASES: readonly Phase[] = [
  preflight,
  backup,
  disableStandby,
  upgradeStandby,
  expand,
  flip,
  contract,
  upgradeOld,
  verify,
  finalize,
]
