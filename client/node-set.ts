// The TM nodes a client talks to. With one address: one connection, the
// client of a single node, unchanged. With several (a cluster on a shared
// store):
// - a new transaction goes to the next node round robin, skipping a node
//   whose connection is failing or that failed a call in the last second.
//   Round robin rather than least-in-flight: every node of a cluster shares
//   the same databases, so a node's own work per transaction is the same
//   everywhere and in-flight counts would mostly measure this client;
// - every request of a transaction goes to the node that holds it (the
//   transaction keeps the connection it began on; a gtrid this client did
//   not begin is mapped to its node by ListMembers);
// - the outcome of a transaction is asked of its node first, then of the
//   others: a node that was taken over is answered for by any node, from
//   the shared store.
import { fromGrpcError, UnavailableError, WrongNodeError } from './errors.js'
import type { ResolvedClientOptions } from './options.js'
import { TmRpc, type RpcCallOptions } from './tm-rpc.js'
import { DNS_REFRESH_MS, dnsTarget, nodeAddress, systemResolve, type DnsTarget, type Resolve } from './dns-nodes.js'
import type { Transaction__Output } from '../proto/gen/arbiter/v1/Transaction.js'

/** How long a node that failed a call gets no new transactions (then it is tried again). */
const DOWN_MS = 1000
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
  private readonly downUntil = new Map<TmRpc, number>()
  private next = 0
  private refreshedAt = 0

  constructor(
    private readonly options: ResolvedClientOptions,
    private readonly resolve: Resolve = systemResolve,
  ) {
    for (const entry of options.addresses) {
      const target = dnsTarget(entry)
      if (target) this.dnsTargets.push({ entry, target })
    }
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
    const now = Date.now()
    for (let i = 0; i < list.length; i++) {
      const rpc = list[(this.next + i) % list.length]!
      if (rpc.reachable && (this.downUntil.get(rpc) ?? 0) <= now) {
        this.next = (this.next + i + 1) % list.length
        return rpc
      }
    }
    // Every node looks down: try them in turn anyway (one may have come back).
    return list[this.next++ % list.length]!
  }

  /** A call to `rpc` failed as unreachable: no new transactions there for a moment. */
  failed(rpc: TmRpc): void {
    if (!this.single) this.downUntil.set(rpc, Date.now() + DOWN_MS)
  }

  /** `gtrid` was begun (or named) on `rpc`: its node is reached there. */
  learn(gtrid: string, rpc: TmRpc): void {
    if (!this.single) this.byNode.set(nodeOf(gtrid), rpc)
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
    for (const rpc of this.given) {
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
      const channelOptions = nameForTls
        ? { ...this.options.channelOptions, 'grpc.ssl_target_name_override': nameForTls.host, 'grpc.default_authority': `${nameForTls.host}:${nameForTls.port}` }
        : this.options.channelOptions
      rpc = new TmRpc({ ...this.options, address, channelOptions })
      this.rpcs.set(address, rpc)
    }
    return rpc
  }
}

/** The node a gtrid names ("<node id>:<ULID>"). */
export function nodeOf(gtrid: string): string {
  const colon = gtrid.lastIndexOf(':')
  return colon < 0 ? '' : gtrid.slice(0, colon)
}
