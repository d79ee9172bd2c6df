/** The test server's password, from the environment only: a guessed one would hide a run outside `make test`. */
export function dbPassword(): string {
  const password = process.env.HANDOVER_DB_PASSWORD
  if (!password) throw new Error('HANDOVER_DB_PASSWORD is not set: run the tests through `make test` (scripts/run-tests.sh sources scripts/env-defaults.sh)')
  return password
}
