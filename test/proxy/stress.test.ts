/**
 * The proxy under concurrent loopback traffic while the route changes underneath it: many
 * keep-alive client connections, pipelining GETs and POSTs (Content-Length and chunked
 * bodies, cut into pieces at random offsets), while the test flips and releases the service
 * again and again, sometimes undoing the flip.
 *
 * Nothing here depends on timing. The test hands out request permits per phase of a cycle, so
 * it knows exactly how many requests the buffer must hold before it releases, and every
 * check is a count: answers, ids, hashes, held and released requests, in-flight requests.
 * Each client ("lane") writes a whole window of pipelined requests before reading, so the
 * proxy sees requests waiting behind one another on a connection.
 *
 * STRESS_SEED=<n> replays each lane's planned requests (framing, body sizes); where writes
 * are cut, the window depths after a resend, and where the flips land in the traffic still
 * differ between runs.
 */
import { randomBytes } from 'node:crypto'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { AdminClient } from '../../src/protocol/admin-client.js'
import { otherSlot, type SlotName, type SlotState } from '../../src/protocol/routes.js'
import { startShop, type Teardown, type TestShop } from './fixtures/agent.js'
import { sha256, waitFor } from './fixtures/http-client.js'
import { RawClient, type RawResponse } from './fixtures/raw-client.js'
import type { Echo } from './fixtures/upstream.js'

// Far above what the test holds (one request per connection): a 503 here is a proxy bug.
const BUFFER = { maxRequests: 1000, maxWaitSeconds: 30, maxBytes: 256 * 1024 * 1024 }
const MAX_BODY = 100 * 1024
// Requests a lane may pipeline in one window.
const MAX_DEPTH = 3
// Bounds each wait for one response, which includes the time it is held and a slow drain on
// a loaded machine; a missing answer is recorded, not waited for forever.
const RESPONSE_TIMEOUT_MS = 15_000

const SEED = seedFromEnv(process.env.STRESS_SEED)

function seedFromEnv(text: string | undefined): number {
  if (text === undefined) return Math.floor(Math.random() * 2 ** 31)
  if (!/^\d+$/.test(text)) throw new Error(`STRESS_SEED: expected a non-negative integer, got ${JSON.stringify(text)}`)
  return Number(text)
}

/** A small seeded PRNG (mulberry32), so a failing plan can be replayed with STRESS_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

// ---- requests ----

type Framing = 'none' | 'length' | 'chunked'

interface Planned {
  id: string
  framing: Framing
  body: Buffer
  hash: string
}

function planRequest(id: string, random: () => number): Planned {
  const roll = random()
  const framing: Framing = roll < 0.3 ? 'none' : roll < 0.65 ? 'length' : 'chunked'
  // A third of the bodies are small; the rest up to 100 KiB, many larger than one socket read (64 KiB).
  const size = framing === 'none' ? 0 : random() < 0.33 ? Math.floor(random() * 2000) : Math.floor(random() * MAX_BODY)
  const body = randomBytes(size)
  return { id, framing, body, hash: sha256(body) }
}

/** The request as bytes on the wire. */
function wire(request: Planned, random: () => number): Buffer {
  const { id, framing, body } = request
  const method = framing === 'none' ? 'GET' : 'POST'
  const framingLine = framing === 'length' ? `content-length: ${body.length}\r\n` : framing === 'chunked' ? 'transfer-encoding: chunked\r\n' : ''
  const head = Buffer.from(`${method} /stress/${id} HTTP/1.1\r\nhost: shop\r\nx-test-id: ${id}\r\n${framingLine}\r\n`, 'latin1')
  if (framing !== 'chunked') return Buffer.concat([head, body])
  const parts: Buffer[] = [head]
  for (const piece of cut(body, 1 + Math.floor(random() * 4), random)) {
    if (piece.length > 0) parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), piece, Buffer.from('\r\n', 'latin1'))
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'))
  return Buffer.concat(parts)
}

/** `data` in `count` pieces cut at random offsets (some may be empty). */
function cut(data: Buffer, count: number, random: () => number): Buffer[] {
  const offsets = Array.from({ length: count - 1 }, () => Math.floor(random() * data.length)).sort((a, b) => a - b)
  const pieces: Buffer[] = []
  let from = 0
  for (const offset of [...offsets, data.length]) {
    pieces.push(data.subarray(from, offset))
    from = offset
  }
  return pieces
}

/**
 * Writes the request in up to 4 pieces cut anywhere (inside the head, a chunk-size line or
 * the body), yielding to the event loop between them so the proxy reads them separately.
 */
async function writeRequest(connection: RawClient, request: Planned, random: () => number): Promise<void> {
  const pieces = cut(wire(request, random), 1 + Math.floor(random() * 4), random)
  for (const piece of pieces) {
    if (piece.length === 0) continue
    connection.write(piece)
    await yieldToEventLoop()
  }
}

// ---- clients ----

/**
 * One client: its planned requests over keep-alive connections, a window of up to 3
 * pipelined requests at a time. It starts a request only with a permit from the test. When
 * the proxy answers `connection: close` (a draining or disabled slot answered), the requests
 * pipelined behind that answer were never read, so the lane sends them again on a new
 * connection; a proxy that had forwarded them anyway shows up as a duplicate at an upstream.
 */
class Lane {
  readonly plan: Planned[] = []
  /** Times each id was answered; anything but 1 is a failure. */
  readonly answers = new Map<string, number>()
  readonly problems: string[] = []
  answered = 0
  connections = 0
  resent = 0
  private started = 0
  private allowed = 0
  private readonly resend: Planned[] = []
  private connection: RawClient | undefined
  private wake: (() => void) | undefined
  private stopped = false

  private readonly random: () => number

  constructor(
    readonly name: string,
    private readonly port: number,
    seed: number,
    count: number,
  ) {
    // A generator per lane: its draws do not depend on how the lanes interleave.
    this.random = prng(seed)
    for (let i = 0; i < count; i++) this.plan.push(planRequest(`${name}-${i}`, this.random))
  }

  /** Lets the lane start `n` more of its requests. */
  allow(n: number): void {
    this.allowed = Math.min(this.plan.length, this.allowed + n)
    this.wake?.()
  }

  /** No more permits will come: the lane ends once it has nothing left to send. */
  stop(): void {
    this.stopped = true
    this.wake?.()
  }

  close(): void {
    this.connection?.close()
  }

  async run(): Promise<void> {
    // Every window settles at least its first request, so this many windows always suffice.
    for (let window = 0; window < 2 * this.plan.length; window++) {
      if (this.started === this.plan.length && this.resend.length === 0) break
      const requests = await this.nextWindow()
      if (requests === undefined) break
      await this.exchange(requests)
    }
    if (this.started < this.plan.length || this.resend.length > 0) this.problems.push(`${this.name}: stopped with ${this.plan.length - this.started + this.resend.length} requests not sent`)
    this.close()
  }

  private async nextWindow(): Promise<Planned[] | undefined> {
    while (this.resend.length === 0 && this.started >= this.allowed) {
      if (this.stopped) return undefined
      await new Promise<void>((resolve) => (this.wake = resolve))
      this.wake = undefined
    }
    const depth = 1 + Math.floor(this.random() * MAX_DEPTH)
    const requests = this.resend.splice(0, depth)
    while (requests.length < depth && this.started < this.allowed) requests.push(this.plan[this.started++]!)
    return requests
  }

  /** Writes the whole window, then reads its answers: they must come in the order sent. */
  private async exchange(requests: Planned[]): Promise<void> {
    const connection = await this.connect()
    const number = this.connections
    for (const request of requests) await writeRequest(connection, request, this.random)
    for (let i = 0; i < requests.length; i++) {
      let response: RawResponse
      try {
        response = await connection.response(RESPONSE_TIMEOUT_MS)
      } catch (error) {
        // Closed (or silent) without saying so: what is left of the window is lost.
        for (const lost of requests.slice(i)) this.fail(lost, `connection ${number}: no answer: ${(error as Error).message}`)
        this.drop()
        return
      }
      this.settle(requests[i]!, response, number)
      if (response.headers.connection === 'close') {
        const unanswered = requests.slice(i + 1)
        this.resent += unanswered.length
        this.resend.unshift(...unanswered)
        this.drop()
        return
      }
    }
  }

  private settle(request: Planned, response: RawResponse, connection: number): void {
    this.count(request)
    const where = `${request.id} (connection ${connection})`
    if (response.status !== 200) {
      this.problems.push(`${where}: status ${response.status}: ${response.body.trim().slice(0, 200)}`)
      return
    }
    const echo = JSON.parse(response.body) as Echo
    if (echo.testId !== request.id) this.problems.push(`${where}: answered with the response to ${echo.testId}`)
    else if (echo.sha256 !== request.hash || echo.length !== request.body.length) {
      this.problems.push(`${where}: ${request.framing} body of ${request.body.length} bytes arrived as ${echo.length} bytes, hash ${echo.sha256 === request.hash ? 'equal' : 'different'}`)
    }
    if (response.headers['x-served-by'] !== echo.upstream) this.problems.push(`${where}: x-served-by ${response.headers['x-served-by']} but echoed by ${echo.upstream}`)
  }

  private fail(request: Planned, problem: string): void {
    this.count(request)
    this.problems.push(`${request.id}: ${problem}`)
  }

  private count(request: Planned): void {
    this.answered++
    this.answers.set(request.id, (this.answers.get(request.id) ?? 0) + 1)
  }

  private async connect(): Promise<RawClient> {
    if (this.connection !== undefined && !this.connection.closed) return this.connection
    this.connection?.close()
    this.connections++
    this.connection = await RawClient.connect(this.port)
    return this.connection
  }

  private drop(): void {
    this.connection?.close()
    this.connection = undefined
  }
}

function startLanes(count: number, perLane: number, port: number, seed: number): { lanes: Lane[]; done: Promise<void> } {
  const lanes = Array.from({ length: count }, (_, i) => new Lane(`c${i}`, port, seed + i * 7919, perLane))
  return { lanes, done: Promise.all(lanes.map((lane) => lane.run())).then(() => undefined) }
}

function allow(lanes: Lane[], n: number): void {
  for (const lane of lanes) lane.allow(n)
}

function answered(lanes: Lane[]): number {
  return lanes.reduce((sum, lane) => sum + lane.answered, 0)
}

// ---- the service ----

/** Service 'shop', blue active and green disabled, with buffer limits the test cannot reach. */
function startStressShop(t: Teardown): Promise<TestShop> {
  return startShop(t, { blue: 'active', green: 'disabled' }, {}, { buffer: BUFFER })
}

function buffered(client: AdminClient, n: number, what: string): Promise<void> {
  return waitFor(async () => (await client.getService('shop')).buffered === n, what)
}

/** Every test id each upstream saw, in order; ids seen more than once overall. */
function received(shop: TestShop): { ids: string[]; duplicates: string[] } {
  const ids = [...shop.blue.received, ...shop.green.received].map((r) => r.testId).filter((id): id is string => id !== undefined)
  const seen = new Set<string>()
  const duplicates = ids.filter((id) => seen.has(id) || (seen.add(id), false))
  return { ids, duplicates }
}

/**
 * Which slot serves, and the flips and releases that move it: a flip goes to the idle
 * (disabled) slot; a release goes to it, or back to the draining slot to undo the flip.
 * It also counts what each flip met, to show the cycles ran into live traffic.
 */
class Route {
  active: SlotName = 'blue'
  readonly released: number[] = []
  /** Requests in flight on the old slot just after each flip. */
  inFlightAtFlips = 0
  /** Body bytes held just before each release. */
  heldBytesAtReleases = 0

  constructor(private readonly client: AdminClient) {}

  get idle(): SlotName {
    return otherSlot(this.active)
  }

  async flip(): Promise<void> {
    await this.client.flip('shop', this.idle)
    this.inFlightAtFlips += (await this.client.getService('shop')).slots[this.active].inFlight
  }

  /** Returns how many held requests went out, and the slot states right after. */
  async release(undo: boolean): Promise<{ released: number; states: [SlotState, SlotState] }> {
    this.heldBytesAtReleases += (await this.client.getService('shop')).bufferedBytes ?? 0
    const to = undo ? this.active : this.idle
    const { released, service } = await this.client.release('shop', to)
    this.active = to
    this.released.push(released)
    return { released, states: [service.slots.blue.state, service.slots.green.state] }
  }

  /** What release() must return when `released` requests were held. */
  expected(released: number): { released: number; states: [SlotState, SlotState] } {
    return { released, states: this.active === 'blue' ? ['active', 'disabled'] : ['disabled', 'active'] }
  }

  summary(): string {
    return `released per cycle ${this.released.join(',')}; ${this.inFlightAtFlips} requests in flight on the old slot at the flips; ${this.heldBytesAtReleases} body bytes held at the releases`
  }
}

/** The end state every test expects: nothing held, nothing in flight, one slot active and one disabled. */
async function settledState(t: Test, client: AdminClient, active: SlotName): Promise<void> {
  await waitFor(async () => {
    const { slots } = await client.getService('shop')
    return slots.blue.inFlight === 0 && slots.green.inFlight === 0
  }, 'no request in flight on either slot')
  const status = await client.getService('shop')
  t.same(
    { buffered: status.buffered, bufferedBytes: status.bufferedBytes, active: status.slots[active].state, idle: status.slots[otherSlot(active)].state },
    { buffered: 0, bufferedBytes: 0, active: 'active', idle: 'disabled' },
    'nothing held, and one slot active, the other disabled',
  )
  t.same([status.slots.blue.inFlight, status.slots.green.inFlight, status.slots.blue.tunnels, status.slots.green.tunnels], [0, 0, 0, 0], 'nothing in flight')
}

/** Each lane's requests answered once each, in every check the lane made (status, id, order, body). */
function checkLanes(t: Test, lanes: Lane[]): void {
  const planned = lanes.flatMap((lane) => lane.plan.map((request) => request.id))
  t.same(
    lanes.flatMap((lane) => lane.problems),
    [],
    'every answer was a 200 for its own request, in send order on its connection, with the body the upstream got intact',
  )
  const notOnce = lanes.flatMap((lane) => lane.plan.filter((request) => lane.answers.get(request.id) !== 1).map((r) => `${r.id}: ${lane.answers.get(r.id) ?? 0}`))
  t.same(notOnce, [], `each of the ${planned.length} requests was answered exactly once`)
  t.equal(answered(lanes), planned.length, 'as many answers as requests')
}

// ---- the tests ----

t.comment(`STRESS_SEED=${SEED}`)

t.test('many keep-alive clients through flip/release cycles', async (t) => {
  const LANES = 16
  const CYCLES = 8
  // Per lane and cycle: STEADY requests while a slot serves, then one that is certainly held.
  const STEADY = 4
  const shop = await startStressShop(t)
  const { client } = shop
  const routing = new Route(client)
  const { lanes, done } = startLanes(LANES, CYCLES * (STEADY + 1), shop.port, SEED)
  t.teardown(() => lanes.forEach((lane) => lane.close()))

  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // Every fourth cycle is undone: the release goes back to the draining slot.
      const undo = cycle % 4 === 3
      const start = answered(lanes)
      allow(lanes, STEADY)
      // Flip in the middle of the traffic, while requests are under way.
      await waitFor(() => answered(lanes) >= start + (LANES * STEADY) / 2, `cycle ${cycle}: half the steady requests to be answered`)
      const draining = routing.active
      await routing.flip()
      // Permits given after the flip: each lane's next request is held, whatever it was doing.
      allow(lanes, 1)
      await buffered(client, LANES, `cycle ${cycle}: one request of every lane to be held`)
      // As an upgrade does, half the cycles wait for the old slot to drain before the release;
      // the others release (and so disable the old slot) with requests still in flight on it.
      if (!undo && cycle % 2 === 0) t.same(await client.waitDrained('shop', draining, 5), { drained: true, inFlight: 0 }, `cycle ${cycle}: ${draining} drained`)
      const release = await routing.release(undo)
      t.same(release, routing.expected(LANES), `cycle ${cycle}: ${undo ? 'undo, ' : ''}every held request released to ${routing.active}, the other slot disabled`)
    }
  } finally {
    // Also on failure, so the lanes end instead of waiting for permits.
    lanes.forEach((lane) => lane.stop())
  }
  await done

  checkLanes(t, lanes)
  const planned = lanes.flatMap((lane) => lane.plan.map((request) => request.id))
  const { ids, duplicates } = received(shop)
  t.same(duplicates, [], 'no request reached an upstream twice')
  t.same([...ids].sort(), [...planned].sort(), 'together the upstreams received exactly the requests sent')
  t.ok(shop.blue.received.length > 0 && shop.green.received.length > 0, 'both slots served')
  await settledState(t, client, routing.active)
  t.comment(`${planned.length} requests on ${lanes.reduce((n, l) => n + l.connections, 0)} connections; ${lanes.reduce((n, l) => n + l.resent, 0)} sent again after a connection: close; ${routing.summary()}`)
})

// ---- clients that leave ----

type HeldLeave = 'held-head' | 'held-mid-length-body' | 'held-mid-chunked-body'
type InFlightLeave = 'forwarded-mid-body' | 'awaiting-response'

/** A client that sends part of a request (or all of it) and then disconnects. */
class Leaver {
  private constructor(
    readonly id: string,
    private readonly connection: RawClient,
  ) {}

  /** Sends the request up to the point where this kind of client leaves. */
  static async start(port: number, id: string, kind: HeldLeave | InFlightLeave): Promise<Leaver> {
    const connection = await RawClient.connect(port)
    const head = (method: string, path: string, framing: string) => `${method} ${path} HTTP/1.1\r\nhost: shop\r\nx-test-id: ${id}\r\n${framing}\r\n`
    switch (kind) {
      case 'held-head':
        connection.write(head('GET', `/leave/${id}`, ''))
        break
      case 'held-mid-length-body':
      case 'forwarded-mid-body':
        // More than one read's worth sent, more than that still owed.
        connection.write(head('POST', `/leave/${id}`, 'content-length: 200000\r\n'))
        connection.write(randomBytes(80_000))
        break
      case 'held-mid-chunked-body':
        connection.write(head('POST', `/leave/${id}`, 'transfer-encoding: chunked\r\n') + '400\r\n')
        connection.write(randomBytes(0x400))
        connection.write('\r\n10\r\n01234567')
        break
      case 'awaiting-response':
        // The upstream parks /slow requests: it has the whole request and never answers.
        connection.write(head('GET', `/slow/${id}`, ''))
        break
    }
    return new Leaver(id, connection)
  }

  leave(): void {
    this.connection.close()
  }
}

t.test('clients that disconnect mid-body, while held or in flight, during flip/release cycles', async (t) => {
  const LANES = 8
  const CYCLES = 6
  const STEADY = 3
  const HELD_KINDS: HeldLeave[] = ['held-head', 'held-mid-length-body', 'held-mid-chunked-body']
  const IN_FLIGHT_KINDS: InFlightLeave[] = ['forwarded-mid-body', 'awaiting-response']
  const shop = await startStressShop(t)
  const { client } = shop
  const routing = new Route(client)
  const { lanes, done } = startLanes(LANES, CYCLES * (STEADY + 1), shop.port, SEED + 1)
  const leftWhileHeld: string[] = []
  const leftInFlight: string[] = []
  const leavers: Leaver[] = []
  t.teardown(() => {
    lanes.forEach((lane) => lane.close())
    leavers.forEach((leaver) => leaver.leave())
  })

  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const undo = cycle % 3 === 2
      allow(lanes, STEADY)
      // Clients whose requests reach the serving slot, and who leave after the flip, while
      // that slot drains: their requests must stop counting as in flight there.
      const inFlight: Leaver[] = []
      for (const kind of IN_FLIGHT_KINDS) inFlight.push(await Leaver.start(shop.port, `${kind}-${cycle}`, kind))
      leavers.push(...inFlight)
      await waitFor(() => inFlight.every((leaver) => received(shop).ids.includes(leaver.id)), `cycle ${cycle}: the in-flight leavers' requests to reach an upstream`)
      const draining = routing.active
      await routing.flip()
      for (const leaver of inFlight) leaver.leave()
      leftInFlight.push(...inFlight.map((leaver) => leaver.id))

      // Clients that leave while their request is held: it must never be forwarded.
      allow(lanes, 1)
      const held: Leaver[] = []
      for (const kind of HELD_KINDS) held.push(await Leaver.start(shop.port, `${kind}-${cycle}`, kind))
      leavers.push(...held)
      await buffered(client, LANES + held.length, `cycle ${cycle}: every lane and every leaver to have a request held`)
      for (const leaver of held) leaver.leave()
      // Released only once the proxy has seen them go, so "never forwarded" is the proxy's promise, not luck.
      await buffered(client, LANES, `cycle ${cycle}: the held leavers to be forgotten`)
      leftWhileHeld.push(...held.map((leaver) => leaver.id))

      if (!undo) t.same(await client.waitDrained('shop', draining, 5), { drained: true, inFlight: 0 }, `cycle ${cycle}: ${draining} drained, its leavers no longer in flight`)
      const release = await routing.release(undo)
      t.same(release, routing.expected(LANES), `cycle ${cycle}: ${undo ? 'undo, ' : ''}only the lanes' held requests released to ${routing.active}`)
    }
  } finally {
    lanes.forEach((lane) => lane.stop())
  }
  await done

  checkLanes(t, lanes)
  const { ids, duplicates } = received(shop)
  t.same(duplicates, [], 'no request reached an upstream twice')
  t.same(ids.filter((id) => leftWhileHeld.includes(id)), [], `none of the ${leftWhileHeld.length} requests whose client left while held was forwarded`)
  t.same(leftInFlight.filter((id) => !ids.includes(id)), [], 'the in-flight leavers had been forwarded (the case is real)')
  await settledState(t, client, routing.active)

  // The agent still serves a fresh client.
  const last = await RawClient.connect(shop.port)
  t.teardown(() => last.close())
  last.write(`GET /after HTTP/1.1\r\nhost: shop\r\nx-test-id: after\r\n\r\n`)
  const answer = await last.response()
  t.equal(answer.status, 200, 'a request after all that is answered')
  t.equal((JSON.parse(answer.body) as Echo).upstream, routing.active, 'by the active slot')
  await settledState(t, client, routing.active)
  t.comment(`${leftWhileHeld.length} clients left while held, ${leftInFlight.length} while in flight; ${routing.summary()}`)
})
