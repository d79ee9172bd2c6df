/**
 * A Docker call made while dockerd restarts is made again once the engine answers, within
 * the wait; an engine that stays away, or an answer that is an error of the engine itself,
 * is not waited for. The engine is a stand-in here because only its socket errors matter;
 * the restart of a real engine is in scripts/crash-matrix.
 */
import t from 'tap'
import type Docker from 'dockerode'
import { DockerRuntime } from '../../src/runtime/docker-runtime.js'

function engineDownFor(failures: number, error: () => Error) {
  let calls = 0
  const container = {
    inspect: async () => {
      calls++
      if (calls <= failures) throw error()
      return { Id: 'c1', Config: { Image: 'app:2' }, State: { Running: true, Restarting: false, ExitCode: 0 }, RestartCount: 0 }
    },
  }
  return { docker: { getContainer: () => container } as unknown as Docker, calls: () => calls }
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' })

t.test('a call that finds the engine gone is made again until it answers', async (t) => {
  const engine = engineDownFor(3, refused)
  const slot = await new DockerRuntime(engine.docker, 5).inspectSlot('shop', 'blue')
  t.equal(slot?.image, 'app:2')
  t.equal(engine.calls(), 4, 'three refusals, then the answer')
})

t.test('an engine that stays away fails the call once the wait is over', async (t) => {
  const engine = engineDownFor(1000, refused)
  const began = Date.now()
  await t.rejects(new DockerRuntime(engine.docker, 1).inspectSlot('shop', 'blue'), { code: 'ECONNREFUSED' })
  t.ok(Date.now() - began < 3000, 'bounded by the wait')
})

t.test("the engine's own errors are not waited for", async (t) => {
  const engine = engineDownFor(1, () => Object.assign(new Error('conflict'), { statusCode: 409 }))
  await t.rejects(new DockerRuntime(engine.docker, 5).inspectSlot('shop', 'blue'), { message: 'conflict' })
  t.equal(engine.calls(), 1)
})

t.test('a cancelled phase does not wait for the engine', async (t) => {
  const engine = engineDownFor(1000, refused)
  const controller = new AbortController()
  controller.abort()
  await t.rejects(new DockerRuntime(engine.docker, 30).inspectSlot('shop', 'blue', controller.signal), { code: 'ECONNREFUSED' })
  t.equal(engine.calls(), 1)
})
