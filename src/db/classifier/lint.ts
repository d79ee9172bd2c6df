import { classifyScript, deferConflicts, effectivePart, findSplitConflicts } from './script.js'
import type { SchemaState } from './schema-state.js'
import type { ClassifiedStatement, Part, SchemaModel, ScriptStatement } from './types.js'

export type Severity = 'error' | 'warning' | 'info'

/** One line of `handover migrate lint`: where, how bad, which part and kind, and why. */
export interface LintFinding {
  file: string
  line: number
  severity: Severity
  part?: Part
  kind: string
  reason: string
  /** The error code, for errors. */
  code?: string
}

export interface LintReport {
  findings: LintFinding[]
  errors: number
  warnings: number
}

/**
 * Every finding of a script at once, in line order: the class of each statement (info),
 * what needs the author's attention (warning), and everything that stops an upgrade (error).
 * Pure: it reads neither files nor the database.
 */
export function lintScript(file: string, statements: readonly ScriptStatement[], schema?: SchemaModel, state?: SchemaState): LintReport {
  const findings: LintFinding[] = []
  const classified: ClassifiedStatement[] = []
  const errors: LintFinding[] = []
  for (const entry of classifyScript(file, statements, schema, state)) {
    if ('error' in entry) errors.push({ file, line: entry.statement.line, severity: 'error', kind: 'error', reason: entry.error.message, code: entry.error.code })
    else classified.push(entry.classified)
  }
  deferConflicts(file, classified)
  findings.push(...errors, ...classified.flatMap((statement) => statementFindings(file, statement)))
  for (const conflict of findSplitConflicts(file, classified)) {
    const both = [conflict.expandLine, conflict.contractLine].map((line) => classified.find((c) => c.statement.line === line)?.marked)
    const severity: Severity = both.every(Boolean) ? 'warning' : 'error'
    findings.push({ file, line: conflict.expandLine, severity, part: 'expand', kind: 'split', reason: conflict.message, code: conflict.code })
  }
  findings.sort((a, b) => a.line - b.line)
  return {
    findings,
    errors: findings.filter((finding) => finding.severity === 'error').length,
    warnings: findings.filter((finding) => finding.severity === 'warning').length,
  }
}

function statementFindings(file: string, statement: ClassifiedStatement): LintFinding[] {
  const line = statement.statement.line
  const part = effectivePart(statement)
  const findings: LintFinding[] = [{ file, line, severity: 'info', part, kind: statement.kind, reason: statement.reason }]
  if (statement.marked === 'expand' && statement.part === 'contract') {
    findings.push({ file, line, severity: 'warning', part, kind: statement.kind, reason: `marked expand, but the old version may not tolerate it: ${statement.reason}` })
  }
  if (statement.warning) findings.push({ file, line, severity: 'warning', part, kind: statement.kind, reason: statement.warning })
  return findings
}
