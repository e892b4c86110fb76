// The TM nodes a client talks to. With one address: one connection, the
// client of a single node, unchanged. With several (a cluster on a shared
// store):
// - a new transaction goes to the next node round robin, skipping a node
//   that is not healthy: its connection is failing, a call to it failed as
//   unreachable, its connection dropped (the client's keepalive finds a
//   frozen node whose socket stays open), or the cluster's member list says
//   it is not live (lease lapsed, taken over). A node that failed is skipped
//   for DOWN_BASE_MS, doubling on each failure up to DOWN_MAX_MS, and then
//   only gets new transactions again once it answered a probe (ListMembers):
//   no transaction is sent to find out whether a node is back.
//   Round robin rather than least-in-flight: every node of a cluster shares
//   the same databases, so a node's own work per transaction is the same
//   everywhere and in-flight counts would mostly measure this client;
// - every request of a transaction goes to the node that holds it (the
//   transaction keeps the connection it began on; a gtrid this client did
//   not begin is mapped to its node by ListMembers);
// - the outcome of a transaction is asked of its node first, then of the
//   others: a node that was taken over is answered for by any node, from
//   the shared store.
import { status } from '@grpc/grpc-js'
import { ArbiterError, fromGrpcError, isTmAnswer, UnavailableError, WrongNodeError } from './errors.js'
import { CLUSTER_CHANNEL_OPTIONS, type ResolvedClientOptions } from './options.js'
import { TmRpc, type RpcCallOptions } from './tm-rpc.js'
import { DNS_REFRESH_MS, dnsTarget, nodeAddress, systemResolve, type DnsTarget, type Resolve } from './dns-nodes.js'
import type { Transaction__Output } from '../proto/gen/arbiter/v1/Transaction.js'
import type { Member__Output } from '../proto/gen/arbiter/v1/Member.js'

/** How long a node that failed once gets no new transactions; doubled on each further failure. */
export const DOWN_BASE_MS = 1000
/** The longest a failed node is skipped before it is probed again. */
export const DOWN_MAX_MS = 30_000
/** The deadline of a probe (at most the client's defaultDeadlineMs). */
export const PROBE_DEADLINE_MS = 2000
/** The member list is read at least this often while new transactions are picked (the `live` flags). */
export const LIVENESS_EVERY_MS = 10_000
/** ListMembers at most this often (asked when a gtrid names a node this client does not know). */
const REFRESH_EVERY_MS = 1000

export class NodeSet {
  /** By address: the ones given (new transactions go to these), then ones learned from the member list (only for their transactions). */
  private readonly rpcs = new Map<string, TmRpc>()
  /** New transactions go to these: the addresses given, a `dns:` target's as it last resolved (dns-nodes.ts). */
  private given: TmRpc[]
  /** Whether an address given is a `dns:` target (then the client is one of a cluster even with one entry). */
  private readonly dnsTargets: { readonly entry: string; readonly target: DnsTarget }[] = []
  private resolved = new Map<string, string[]>()
  private dnsTimer: NodeJS.Timeout | undefined
  /** Node id (a gtrid's prefix) to its connection. */
  private readonly byNode = new Map<string, TmRpc>()
  /** Nodes that are not healthy (absent: healthy). */
  private readonly health = new Map<TmRpc, Health>()
  /** The node id each connection answered as (a probe's ListMembers, a transaction begun there). */
  private readonly nodeIdOf = new Map<TmRpc, string>()
  private next = 0
  private refreshedAt = 0
  private livenessAt = 0
  private closed = false
  /** More than one node (or a `dns:` target): health is tracked, keepalive is on. */
  private readonly cluster: boolean

  constructor(
    private readonly options: ResolvedClientOptions,
    private readonly resolve: Resolve = systemResolve,
    /** The clock (a seam for tests). */
    private readonly now: () => number = Date.now,
  ) {
    for (const entry of options.addresses) {
      const target = dnsTarget(entry)
      if (target) this.dnsTargets.push({ entry, target })
    }
    this.cluster = options.addresses.length > 1 || this.dnsTargets.length > 0
    // Until a name resolves, its target is one channel of its own (grpc-js resolves it and picks one address).
    this.given = options.addresses.map((address) => this.rpcFor(address))
    if (this.dnsTargets.length > 0) {
      void this.resolveNames()
      this.dnsTimer = setInterval(() => void this.resolveNames(), DNS_REFRESH_MS)
      this.dnsTimer.unref()
    }
  }

  /** One node: the client behaves exactly as a client of a single TM. */
  get single(): boolean {
    return this.given.length === 1 && this.dnsTargets.length === 0
  }

  /** The addresses new transactions go to now (a `dns:` target's as resolved). */
  addresses(): string[] {
    return this.given.map((rpc) => rpc.address)
  }

  /**
   * Resolves every `dns:` target again; each address it gives is a node. A
   * name that does not resolve keeps its last addresses (or its own
   * channel): a DNS hiccup must not take the cluster away from the client.
   */
  async resolveNames(): Promise<void> {
    const resolved = new Map(this.resolved)
    await Promise.all(
      this.dnsTargets.map(async ({ entry, target }) => {
        const ips = await this.resolve(target.host).catch(() => undefined)
        if (ips && ips.length > 0) resolved.set(entry, [...new Set(ips)].map((ip) => nodeAddress(ip, target.port)))
      }),
    )
    this.resolved = resolved
    const tls = this.options.tls !== undefined
    const next: TmRpc[] = []
    for (const entry of this.options.addresses) {
      const target = dnsTarget(entry)
      const addresses = resolved.get(entry)
      if (!target || !addresses) next.push(this.rpcFor(entry))
      // TLS still checks the certificate against the name, not the address it resolved to.
      else for (const address of addresses) next.push(this.rpcFor(address, tls ? target : undefined))
    }
    this.given = [...new Set(next)]
  }

  /** The node for a new transaction. */
  pick(): TmRpc {
    const list = this.given
    if (list.length === 1) return list[0]!
    const now = this.now()
    if (now - this.livenessAt >= LIVENESS_EVERY_MS) void this.readLiveness()
    for (let i = 0; i < list.length; i++) {
      const rpc = list[(this.next + i) % list.length]!
      if (this.healthy(rpc, now)) {
        this.next = (this.next + i + 1) % list.length
        return rpc
      }
    }
    // No node looks healthy: try them in turn anyway (one may have come back; an answer makes it healthy).
    return list[this.next++ % list.length]!
  }

  /** Whether `rpc` takes new transactions now; a failed node whose time is up is probed (it stays skipped until it answers). */
  private healthy(rpc: TmRpc, now: number): boolean {
    const h = this.health.get(rpc)
    if (h === undefined) return rpc.reachable
    if (!h.probing && h.downUntil <= now) this.probe(rpc)
    return false
  }

  /**
   * A call to `rpc` failed as unreachable (or its connection dropped, or the
   * member list says it is not live): no new transactions there until it
   * answers a probe, DOWN_BASE_MS after a first failure, twice as long after
   * each further one, at most DOWN_MAX_MS. Failures while it is already down
   * (calls that were under way together) count once.
   */
  failed(rpc: TmRpc): void {
    if (!this.cluster) return
    const now = this.now()
    const h = this.health.get(rpc) ?? { failures: 0, downUntil: 0, probing: false }
    if (h.failures > 0 && (h.probing || now < h.downUntil)) return
    h.failures++
    h.downUntil = now + downMs(h.failures)
    this.health.set(rpc, h)
    // The other nodes may know why (taken over, lease lapsed): their `live` flags.
    if (now - this.livenessAt >= REFRESH_EVERY_MS) void this.readLiveness()
  }

  /** `rpc` answered a call: it takes new transactions again. */
  succeeded(rpc: TmRpc): void {
    this.health.delete(rpc)
  }

  /** The connection to `rpc` was READY and dropped: skipped until it answers a probe, sent now. */
  private lost(rpc: TmRpc): void {
    if (this.closed || this.health.has(rpc) || !this.given.includes(rpc)) return
    this.health.set(rpc, { failures: 0, downUntil: 0, probing: false })
    this.probe(rpc)
  }

  /** How many failures in a row `rpc` has had and until when it is skipped (for tests and diagnostics). */
  healthOf(rpc: TmRpc): { readonly failures: number; readonly downUntil: number; readonly probing: boolean } | undefined {
    const h = this.health.get(rpc)
    return h && { ...h }
  }

  /** The connection of a node the client was given, by address. */
  givenRpc(address: string): TmRpc | undefined {
    return this.given.find((rpc) => rpc.address === address)
  }

  /**
   * Asks a node that is down whether it answers (ListMembers, whose answer
   * also says whether the node is live in the cluster): healthy again if it
   * does, down for longer if not.
   */
  private probe(rpc: TmRpc): void {
    const h = this.health.get(rpc)
    if (!h || h.probing || this.closed) return
    h.probing = true
    const done = (ok: boolean): void => {
      h.probing = false
      if (this.closed || this.health.get(rpc) !== h) return
      if (ok) this.health.delete(rpc)
      else this.failed(rpc)
    }
    rpc.listMembers(Math.min(this.options.defaultDeadlineMs, PROBE_DEADLINE_MS)).then(
      ({ nodeId, members }) => {
        if (nodeId) this.nodeIdOf.set(rpc, nodeId)
        this.applyLiveness(members, rpc)
        // A node that answers but whose own lease lapsed (it was taken over and has not rejoined yet) stays down.
        done(members.find((m) => m.nodeId === nodeId)?.live !== false)
      },
      (error: unknown) => {
        // Answered, just not with the list (auth): it is there. Unreachable, deadline, a store it cannot read: down. So is a
        // server without ListMembers: every node of a cluster has it, so that is not a TM of one (a wrong address).
        const e = fromGrpcError(error)
        const unimplemented = e.grpcCode === (status.UNIMPLEMENTED as number) && !isTmAnswer(e)
        done(!(e instanceof UnavailableError) && e.code !== 'TM_OUTCOME_UNKNOWN' && !unimplemented)
      },
    )
  }

  /** The member list from a healthy node: members it says are not live get no new transactions. */
  private async readLiveness(): Promise<void> {
    this.livenessAt = this.now()
    const order = [...this.given].sort((a, b) => Number(this.health.has(a)) - Number(this.health.has(b)))
    for (const rpc of order) {
      if (this.closed || this.health.has(rpc)) return
      try {
        const { nodeId, members } = await rpc.listMembers(Math.min(this.options.defaultDeadlineMs, PROBE_DEADLINE_MS))
        if (nodeId) this.nodeIdOf.set(rpc, nodeId)
        this.applyLiveness(members, rpc)
        return
      } catch {
        return // not this node's verdict on the others; its own failures are seen by its calls
      }
    }
  }

  /** Members the list says are not live (lease lapsed, taken over): the given nodes they are go down. */
  private applyLiveness(members: readonly Member__Output[], from: TmRpc): void {
    if (this.closed) return
    for (const m of members) {
      if (m.live) continue
      for (const rpc of this.given) {
        if (rpc === from) continue // its own entry is judged by the probe
        // By node id once known: the list keeps every node that ever joined, and a dead one's address may now be a live
        // node's (a replacement on the same host:port, a reused pod IP). By address only while the id is not known.
        const id = this.nodeIdOf.get(rpc)
        if (id !== undefined ? id === m.nodeId : m.address !== '' && rpc.address === m.address) this.failed(rpc)
      }
    }
  }

  /** `gtrid` was begun (or named) on `rpc`: its node is reached there. */
  learn(gtrid: string, rpc: TmRpc): void {
    if (this.single) return
    this.byNode.set(nodeOf(gtrid), rpc)
    if (this.given.includes(rpc)) this.nodeIdOf.set(rpc, nodeOf(gtrid))
  }

  /** What the cluster knows of `gtrid`: asked of its node first, then of the others. */
  async getTransaction(gtrid: string, o: RpcCallOptions = {}): Promise<Transaction__Output> {
    if (this.single) return this.pick().getTransaction({ gtrid }, o)
    const order: TmRpc[] = []
    const add = (rpc: TmRpc | undefined): void => {
      if (rpc && !order.includes(rpc)) order.push(rpc)
    }
    add(await this.holderOf(gtrid))
    for (const rpc of this.given) add(rpc)
    let unreachable: UnavailableError | undefined
    for (let i = 0; i < order.length; i++) {
      o.signal?.throwIfAborted()
      try {
        return await order[i]!.getTransaction({ gtrid }, o)
      } catch (caught) {
        const error = fromGrpcError(caught)
        if (error instanceof WrongNodeError) {
          // Its node may still decide it: only that node's answer counts.
          add(error.metadata.address ? this.rpcFor(error.metadata.address) : undefined)
          unreachable ??= new UnavailableError(`transaction ${gtrid} is node ${error.metadata.node ?? '?'}'s, which did not answer`, { metadata: { gtrid } })
          continue
        }
        if (!(error instanceof UnavailableError)) throw error // an answer: NOT_FOUND from any node is the cluster's
        this.failed(order[i]!)
        // A route that does not answer is dropped (the node may have moved): the next lookup reads the member list again.
        const node = nodeOf(gtrid)
        if (this.byNode.get(node) === order[i]) this.byNode.delete(node)
        unreachable = error
      }
    }
    throw unreachable ?? new UnavailableError(`no node answered for transaction ${gtrid}`, { metadata: { gtrid } })
  }

  /**
   * Where to send a request again whose answer was lost on `rpc`: `rpc`
   * first, then (in a cluster) the other nodes, which answer from the shared
   * store once the transaction is decided or its node was taken over.
   */
  repeatOrder(rpc: TmRpc): TmRpc[] {
    return this.single ? [rpc] : [rpc, ...this.given.filter((other) => other !== rpc)]
  }

  close(): void {
    this.closed = true
    clearInterval(this.dnsTimer)
    for (const rpc of this.rpcs.values()) rpc.close()
  }

  /** The node that holds `gtrid` as far as this client knows (ListMembers when its node is new here). */
  private async holderOf(gtrid: string): Promise<TmRpc | undefined> {
    const node = nodeOf(gtrid)
    if (!this.byNode.has(node) && Date.now() - this.refreshedAt >= REFRESH_EVERY_MS) await this.refresh().catch(() => undefined)
    return this.byNode.get(node)
  }

  /** Reads the member list from the first node that answers. */
  private async refresh(): Promise<void> {
    this.refreshedAt = Date.now()
    // Healthy nodes first: one that is down would make the lookup wait out its deadline.
    for (const rpc of [...this.given].sort((a, b) => Number(this.health.has(a)) - Number(this.health.has(b)))) {
      try {
        const { members } = await rpc.listMembers(Math.min(this.options.defaultDeadlineMs, 2000))
        // A node this client already reached (it began transactions there) keeps that route: the address a
        // node advertises may not work from here (a container name, a copied advertiseAddress), and replacing a
        // working route with it made every later lookup wait out its deadline (found by hostile testing).
        for (const m of members) if (m.address && m.live && !this.byNode.has(m.nodeId)) this.byNode.set(m.nodeId, this.rpcFor(m.address))
        return
      } catch {
        // the next one
      }
    }
  }

  private rpcFor(address: string, nameForTls?: DnsTarget): TmRpc {
    let rpc = this.rpcs.get(address)
    if (!rpc) {
      // In a cluster, keepalive (unless channelOptions set it): a frozen node's connection stays open and
      // READY, and only an unanswered ping shows it. One node: the channel exactly as before.
      const base = this.cluster ? { ...CLUSTER_CHANNEL_OPTIONS, ...this.options.channelOptions } : this.options.channelOptions
      const channelOptions = nameForTls
        ? { ...base, 'grpc.ssl_target_name_override': nameForTls.host, 'grpc.default_authority': `${nameForTls.host}:${nameForTls.port}` }
        : base
      const created = new TmRpc({ ...this.options, address, channelOptions })
      rpc = created
      this.rpcs.set(address, created)
      // A connection that was READY and dropped (keepalive unanswered, reset): skipped until the node answers a probe.
      if (this.cluster) created.onConnectionLost(() => this.lost(created))
    }
    return rpc
  }
}

/** Per node that is not healthy. */
interface Health {
  /** Failures in a row (each while it was up). */
  failures: number
  /** Not probed before this time. */
  downUntil: number
  /** A probe is under way (the node is skipped meanwhile). */
  probing: boolean
}

/** How long a node is skipped after `failures` failures in a row: DOWN_BASE_MS doubling, at most DOWN_MAX_MS. */
export function downMs(failures: number): number {
  return Math.min(DOWN_MAX_MS, DOWN_BASE_MS * 2 ** Math.max(0, Math.min(failures - 1, 30)))
}

/**
 * An error that says the node did not answer: unreachable, or no answer
 * within the deadline (not the TM's own answer). Its node is treated as
 * failed: a node that was only slow answers the probe and is back within
 * a second or so.
 */
export function unanswered(error: unknown): boolean {
  return error instanceof UnavailableError || (error instanceof ArbiterError && error.code === 'TM_OUTCOME_UNKNOWN' && !isTmAnswer(error))
}

/** The node a gtrid names ("<node id>:<ULID>"). */
export function nodeOf(gtrid: string): string {
  const colon = gtrid.lastIndexOf(':')
  return colon < 0 ? '' : gtrid.slice(0, colon)
}
