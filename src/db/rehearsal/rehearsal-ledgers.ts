import type { StatementLedger } from '../migrations/migration-history.js'
import type { MigrationScript, ScriptPart } from '../migrations/scripts/migration-script.js'
import type { SoftDropLedger } from '../migrations/undo/soft-drop-ledger.js'
import type { SoftDrop } from '../migrations/undo/soft-drop.js'

/** The rehearsal's history: on a throw-away copy, nothing needs to outlive the process. */
export class RehearsalHistory implements StatementLedger {
  private readonly applied = new Map<string, Set<number>>()
  private readonly points = new Map<string, Map<number, string>>()

  async checkUnchanged(): Promise<void> {}

  async appliedIndexes(script: MigrationScript, part: ScriptPart): Promise<Set<number>> {
    return new Set(this.applied.get(`${script.name}/${part}`))
  }

  async touchedIndexes(script: MigrationScript, part: ScriptPart): Promise<Set<number>> {
    return this.appliedIndexes(script, part)
  }

  async recordStart(script: MigrationScript, part: ScriptPart, index: number, _runId: string, restorePoint?: string): Promise<void> {
    const points = this.points.get(`${script.name}/${part}`) ?? new Map<number, string>()
    if (restorePoint !== undefined && !points.has(index)) points.set(index, restorePoint)
    this.points.set(`${script.name}/${part}`, points)
  }

  async restorePoints(script: MigrationScript, part: ScriptPart): Promise<Map<number, string>> {
    const applied = this.applied.get(`${script.name}/${part}`) ?? new Set<number>()
    return new Map([...(this.points.get(`${script.name}/${part}`) ?? [])].filter(([index]) => applied.has(index)))
  }

  async record(script: MigrationScript, part: ScriptPart, index: number): Promise<void> {
    const key = `${script.name}/${part}`
    this.applied.set(key, (this.applied.get(key) ?? new Set()).add(index))
  }

  async recordFailure(): Promise<void> {}

  async forgetStatement(script: MigrationScript, part: ScriptPart, index: number): Promise<void> {
    this.applied.get(`${script.name}/${part}`)?.delete(index)
    this.points.get(`${script.name}/${part}`)?.delete(index)
  }

  async forget(script: MigrationScript, part: ScriptPart): Promise<void> {
    this.applied.delete(`${script.name}/${part}`)
    this.points.delete(`${script.name}/${part}`)
  }
}

export class RehearsalSoftDrops implements SoftDropLedger {
  private drops: SoftDrop[] = []

  async record(drop: SoftDrop): Promise<void> {
    this.drops.unshift(drop)
  }

  async ofScript(script: string): Promise<SoftDrop[]> {
    return this.drops.filter((drop) => drop.script === script)
  }

  async forget(drop: SoftDrop): Promise<void> {
    this.drops = this.drops.filter((kept) => kept !== drop)
  }

  async purgeable(): Promise<SoftDrop[]> {
    return [...this.drops]
  }

  async markPurged(drop: SoftDrop): Promise<void> {
    await this.forget(drop)
  }
}
