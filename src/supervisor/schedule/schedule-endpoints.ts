/** The admin API's schedule endpoints: list, add (validated before anything is stored), remove. */
import type { Endpoint } from '../../proxy/admin/admin-endpoints.js'
import { parseScheduleSpec } from '../../protocol/schedules.js'
import * as v from '../../protocol/validate.js'
import type { Scheduler } from './scheduler.js'

export function scheduleEndpoints(scheduler: Scheduler): Endpoint[] {
  return [
    { method: 'GET', path: /^\/v1\/schedules$/, run: async () => ({ schedules: scheduler.list() }) },
    { method: 'POST', path: /^\/v1\/schedules$/, run: async (_params, body) => scheduler.add(parseScheduleSpec(body, 'body')) },
    {
      method: 'DELETE',
      path: /^\/v1\/schedules\/([^/]+)$/,
      run: async ([id]) => {
        await scheduler.remove(v.name(id, 'path.id'))
        return { deleted: id }
      },
    },
  ]
}
