/**
 * Structured logs: one JSON object per line on stderr. Callers pass facts as fields
 * (service, slot, code), never secrets; request bodies and headers are never logged.
 */
export type Logger = (line: object) => void

export const stderrLogger: Logger = (line) => {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...line }) + '\n')
}
