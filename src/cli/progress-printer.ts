import { isUpgradeFact, type UpgradeEvent } from '../protocol/events.js'
import type { Output } from './command.js'
import { factLine } from './fact-lines.js'

/** Fact lines sit under the phase column. */
export const FACT_INDENT = ' '.repeat(13)

/** Renders the upgrade's event stream as one line per phase, with durations, and a line under it for each fact the phase reports. */
export function progressPrinter(output: Output, phaseNames: readonly string[]): (event: UpgradeEvent) => void {
  const position = (phase: string): string => {
    const index = phaseNames.indexOf(phase) + 1
    return `[${String(index).padStart(2)}/${phaseNames.length}]`
  }
  const line = (phase: string, seconds: number, status: string): string =>
    `  ${position(phase)} ${phase.padEnd(18, ' ')} ${seconds.toFixed(2).padStart(8)}s  ${status}`
  return (event) => {
    if (isUpgradeFact(event)) return output.out(`${FACT_INDENT}${factLine(event)}`)
    switch (event.type) {
      case 'run-started':
        output.out(`upgrading ${event.service} ${event.fromVersion} → ${event.toVersion} (run ${event.runId}, ${event.mode} mode)`)
        return
      case 'phase-completed':
        output.out(line(event.phase, event.durationSeconds, 'ok'))
        return
      case 'phase-failed':
        output.out(line(event.phase, event.durationSeconds, `FAILED ${event.errorCode}`))
        return
      case 'phase-undone':
        output.out(line(event.phase, event.durationSeconds, event.ok ? 'undone' : `UNDO FAILED ${event.errorCode ?? ''}`))
        return
      case 'run-finished':
        output.out(`${event.result.replace('_', ' ')} in ${event.durationSeconds.toFixed(2)}s`)
        return
      default:
        return
    }
  }
}
