// Which node gets a new transaction when one fails (node-set.ts): a failed
// node is skipped for 1 s, doubling on each failure in a row up to 30 s, and
// only gets new transactions again once it answered a probe (ListMembers);
// nodes the member list says are not live are skipped too; a client of one
// node is unchanged. The clock and ListMembers are the seams: no TM runs.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DOWN_BASE_MS, DOWN_MAX_MS, NodeSet, downMs } from '../../../client/node-set.js'
import { resolveClientOptions, type ArbiterClientOptions } from '../../../client/options.js'
import { UnavailableError } from '../../../client/errors.js'
import type { TmRpc } from '../../../client/tm-rpc.js'
import type { ListMembersResponse__Output } from '../../../proto/gen/arbiter/v1/ListMembersResponse.js'

const A = '127.0.0.1:1'
const B = '127.0.0.1:2'
const C = '127.0.0.1:3'

type Answer = () => Promise<ListMembersResponse__Output>

interface Fixture {
  readonly nodes: NodeSet
  readonly rpc: (address: string) => TmRpc
  /** What ListMembers asked of each address answers (default: itself, live). */
  readonly answers: Map<string, Answer>
  readonly probes: string[]
  clock: number
}

const open: NodeSet[] = []
afterEach(() => {
  for (const n of open.splice(0)) n.close()
})

function members(self: string, list: { nodeId: string; address?: string; live: boolean }[]): ListMembersResponse__Output {
  return {
    nodeId: self,
    members: list.map((m) => ({ nodeId: m.nodeId, address: m.address ?? '', live: m.live, epoch: '1', leaseLeftMs: 1000, takenOverBy: '' })),
  }
}

function fixture(addresses: string[], options: Partial<ArbiterClientOptions> = {}): Fixture {
  const f = { answers: new Map<string, Answer>(), probes: [] as string[], clock: 1_000_000 } as Fixture & { clock: number }
  const nodes = new NodeSet(resolveClientOptions({ addresses, ...options }), async () => [], () => f.clock)
  open.push(nodes)
  const rpc = (address: string): TmRpc => nodes.givenRpc(address)!
  for (const address of addresses) {
    const id = `n${address.slice(-1)}`
    vi.spyOn(rpc(address), 'listMembers').mockImplementation(() => {
      f.probes.push(address)
      return (f.answers.get(address) ?? (async () => members(id, [{ nodeId: id, live: true }])))()
    })
  }
  return Object.assign(f, { nodes, rpc })
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function picks(nodes: NodeSet, n: number): string[] {
  return Array.from({ length: n }, () => nodes.pick().address)
}

describe('a failed node', () => {
  it('is skipped for 1 s, then 2, 4, 8, 16 s, at most 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(downMs)).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000])
    expect(DOWN_BASE_MS).toBe(1000)
    expect(DOWN_MAX_MS).toBe(30_000)
  })

  it('gets no new transaction until it answers a probe: consecutive new transactions go to the others', async () => {
    const f = fixture([A, B, C])
    f.nodes.failed(f.rpc(A))
    expect(picks(f.nodes, 6)).not.toContain(A)
    expect(f.nodes.healthOf(f.rpc(A))).toMatchObject({ failures: 1, downUntil: f.clock + 1000 })

    // Its time is up: it is probed, and skipped while the probe is under way.
    f.clock += 1000
    let answer!: (r: ListMembersResponse__Output) => void
    f.answers.set(A, () => new Promise((resolve) => (answer = resolve)))
    f.probes.length = 0
    expect(picks(f.nodes, 4)).not.toContain(A)
    expect(f.probes.filter((p) => p === A)).toEqual([A]) // one probe, not one per pick
    answer(members('n1', [{ nodeId: 'n1', live: true }]))
    await settle()
    expect(f.nodes.healthOf(f.rpc(A))).toBeUndefined()
    expect(picks(f.nodes, 3).sort()).toEqual([A, B, C])
  })

  it('that does not answer the probe is skipped twice as long each time; an answer (or a call it answered) resets it', async () => {
    const f = fixture([A, B])
    f.answers.set(A, async () => Promise.reject(new UnavailableError('connection refused')))
    f.nodes.failed(f.rpc(A))
    const skipped: number[] = []
    for (let i = 0; i < 7; i++) {
      const h = f.nodes.healthOf(f.rpc(A))!
      skipped.push(h.downUntil - f.clock)
      f.clock = h.downUntil
      expect(f.nodes.pick().address).toBe(B) // probes A
      await settle()
    }
    expect(skipped).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000])
    expect(f.nodes.healthOf(f.rpc(A))?.failures).toBe(8)
    // A call it answered: healthy at once.
    f.nodes.succeeded(f.rpc(A))
    expect(f.nodes.healthOf(f.rpc(A))).toBeUndefined()
    expect(picks(f.nodes, 2).sort()).toEqual([A, B])
    f.nodes.failed(f.rpc(A))
    expect(f.nodes.healthOf(f.rpc(A))).toMatchObject({ failures: 1, downUntil: f.clock + 1000 })
  })

  it('a probe that gets no answer in time (deadline), or finds no ListMembers (not a TM), counts as a failure; one the TM refused (it answered) does not', async () => {
    const f = fixture([A, B])
    const deadline = Object.assign(new Error('Deadline exceeded'), { code: 4, details: 'Deadline exceeded', metadata: undefined })
    f.answers.set(A, async () => Promise.reject(deadline))
    f.nodes.failed(f.rpc(A))
    f.clock += 1000
    f.nodes.pick()
    await settle()
    expect(f.nodes.healthOf(f.rpc(A))?.failures).toBe(2)
    // Every node of a cluster serves ListMembers: a server that does not is a wrong address (found by hostile testing).
    const unimplemented = Object.assign(new Error('unimplemented'), { code: 12, details: 'unimplemented' })
    f.answers.set(A, async () => Promise.reject(unimplemented))
    f.clock += 2000
    f.nodes.pick()
    await settle()
    expect(f.nodes.healthOf(f.rpc(A))?.failures).toBe(3)
    const denied = Object.assign(new Error('permission denied'), { code: 7, details: 'permission denied' })
    f.answers.set(A, async () => Promise.reject(denied))
    f.clock += 4000
    f.nodes.pick()
    await settle()
    expect(f.nodes.healthOf(f.rpc(A))).toBeUndefined()
  })

  it('calls that fail together (under way at once) count as one failure', () => {
    const f = fixture([A, B])
    for (let i = 0; i < 6; i++) f.nodes.failed(f.rpc(A))
    expect(f.nodes.healthOf(f.rpc(A))).toMatchObject({ failures: 1, downUntil: f.clock + 1000 })
  })

  it('when every node is down, new transactions still go to them in turn (one may be back; an answer makes it healthy)', () => {
    const f = fixture([A, B])
    f.nodes.failed(f.rpc(A))
    f.nodes.failed(f.rpc(B))
    expect(picks(f.nodes, 4).sort()).toEqual([A, A, B, B])
  })
})

describe("the member list's live flag", () => {
  it('a node the cluster lists as not live (taken over, lease lapsed) gets no new transactions, by node id or by address', async () => {
    const f = fixture([B, A, C]) // B first: the member list is read from the first healthy node
    // The client began a transaction on A: A is node n1.
    f.nodes.learn('n1:01J0000000000000000000000', f.rpc(A))
    f.answers.set(B, async () =>
      members('n2', [
        { nodeId: 'n1', address: 'tm-a:50051', live: false },
        { nodeId: 'n2', live: true },
        { nodeId: 'n3', address: C, live: false },
      ]),
    )
    f.answers.set(C, async () => members('n3', [{ nodeId: 'n3', live: true }]))
    f.nodes.failed(f.rpc(C)) // read from a healthy node now (C is not asked: it is down)
    await settle()
    await settle()
    expect(f.nodes.healthOf(f.rpc(A))?.failures).toBe(1)
    expect(picks(f.nodes, 4)).toEqual([B, B, B, B])
  })

  it("a dead member on a live node's address (a replacement with a new id on the same host:port) does not take that node down", async () => {
    // Found by review: matched by address although the node at that address was known to be another, live one.
    const f = fixture([B, A, C])
    f.nodes.learn('n1:01J0000000000000000000000', f.rpc(A)) // A is node n1
    f.answers.set(B, async () =>
      members('n2', [
        { nodeId: 'old', address: A, live: false },
        { nodeId: 'n1', address: A, live: true },
        { nodeId: 'n2', live: true },
        { nodeId: 'n3', address: C, live: false },
      ]),
    )
    f.nodes.failed(f.rpc(C)) // read from a healthy node now (B)
    await settle()
    await settle()
    expect(f.nodes.healthOf(f.rpc(A))?.failures ?? 0).toBe(0)
    expect(picks(f.nodes, 4)).toEqual([B, A, B, A])
  })

  it('a node that answers its probe but lists itself as not live (taken over, not yet rejoined) stays down', async () => {
    const f = fixture([A, B])
    f.answers.set(A, async () => members('n1', [{ nodeId: 'n1', live: false }]))
    f.nodes.failed(f.rpc(A))
    f.clock += 1000
    f.nodes.pick()
    await settle()
    expect(f.nodes.healthOf(f.rpc(A))?.failures).toBe(2)
    f.answers.set(A, async () => members('n1', [{ nodeId: 'n1', live: true }]))
    f.clock += 2000
    f.nodes.pick()
    await settle()
    expect(f.nodes.healthOf(f.rpc(A))).toBeUndefined()
  })
})

describe('one address', () => {
  it('behaves as before: every transaction goes to it, failures change nothing, its channel gets no keepalive', () => {
    const f = fixture([A])
    expect(f.nodes.single).toBe(true)
    f.nodes.failed(f.rpc(A))
    expect(f.nodes.healthOf(f.rpc(A))).toBeUndefined()
    expect(picks(f.nodes, 3)).toEqual([A, A, A])
    expect(f.probes).toEqual([])
    expect(channelOptionsOf(f.rpc(A))['grpc.keepalive_time_ms']).toBeUndefined()
  })

  it('several: keepalive on every node (5 s, 3 s timeout, also without calls), unless channelOptions set it', () => {
    const f = fixture([A, B])
    expect(channelOptionsOf(f.rpc(A))).toMatchObject({
      'grpc.keepalive_time_ms': 5000,
      'grpc.keepalive_timeout_ms': 3000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.initial_reconnect_backoff_ms': 100,
    })
    const g = fixture([A, B], { channelOptions: { 'grpc.keepalive_time_ms': 60_000 } })
    expect(channelOptionsOf(g.rpc(B))['grpc.keepalive_time_ms']).toBe(60_000)
  })
})

function channelOptionsOf(rpc: TmRpc): Record<string, unknown> {
  return (rpc as unknown as { options: { channelOptions: Record<string, unknown> } }).options.channelOptions
}
