/**
 * Every command's name and one-line summary, and where its code is. A command's module is
 * loaded only when it runs: `handover --help` needs none of them, and `handover agent` does
 * not load the SQL parser or the Docker client.
 */
import type { Command } from './command.js'

export interface CommandEntry {
  name: string
  summary: string
  load(): Promise<Command>
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'agent', summary: 'run the proxy, its admin API and /metrics (long-running, one per Docker host)', load: async () => (await import('./commands/agent-command.js')).agentCommand },
  { name: 'deploy', summary: 'bring a service up from nothing: schema, both slots on one image, routes in the agent', load: async () => (await import('./commands/deploy-command.js')).deployCommand },
  { name: 'plan', summary: 'show the migration chain an upgrade would run, and why, rehearsed on a copy of the schema', load: async () => (await import('./commands/plan-command.js')).planCommand },
  { name: 'upgrade', summary: 'upgrade a running service to a new image, with expand/contract migrations, under load', load: async () => (await import('./commands/upgrade-command.js')).upgradeCommand },
  { name: 'resume', summary: "finish a run whose process died (from the journal), or with --rollback undo it before the point of no return", load: async () => (await import('./commands/resume-command.js')).resumeCommand },
  { name: 'follow', summary: 'follow the service\'s run in progress until it ends, whoever runs it (a terminal, or the agent\'s takeover)', load: async () => (await import('./commands/follow-command.js')).followCommand },
  { name: 'abort', summary: 'undo a run whose process died, if v2 has not served yet (before the point of no return)', load: async () => (await import('./commands/abort-command.js')).abortCommand },
  { name: 'status', summary: 'show slots (proxy state, container, image), schema version and the last run', load: async () => (await import('./commands/status-command.js')).statusCommand },
  { name: 'history', summary: 'list past upgrade runs from the journal: versions, start, duration, result, who ran them', load: async () => (await import('./commands/history-command.js')).historyCommand },
  { name: 'migrate', summary: 'lint migration scripts (no database), or purge soft-dropped objects past the retention', load: async () => (await import('./commands/migrate-command.js')).migrateCommand },
  { name: 'schedule', summary: 'have the agent upgrade a service in maintenance windows (cron, explicit time zone); list or remove schedules', load: async () => (await import('./commands/schedule-command.js')).scheduleCommand },
  { name: 'backup', summary: 'list the schema dumps taken before upgrades, or restore one', load: async () => (await import('./commands/backup-command.js')).backupCommand },
]
