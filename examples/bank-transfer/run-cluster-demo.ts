// The demo on a cluster (`npm run demo -- --cluster`): three TM nodes on one
// shared PostgreSQL store (log.store: postgres), the client given all three
// addresses, and one node SIGKILLed halfway. New transfers go on through the
// other two; once the dead node's lease lapses a survivor takes it over
// (bumps its epoch, moves its decided transfers to itself, finishes them and
// presumes its undecided ones aborted). Who took over and when comes from
// the public Admin API (ListNodes); the invariants are checked as in the
// one-node demo (run-demo.ts), whose workload this shares.
import { writeFileSync } from 'node:fs'
import { parseGtrid } from '../../adapters/index.js'
import { createArbiterClient } from '../../client/index.js'
import { connectAdmin } from '../../server/cli/admin-client.js'
import type { NodeInfo__Output } from '../../proto/gen/arbiter/v1/NodeInfo.js'
import { ArbiterProcess, testConfig } from '../../test/helpers/test-arbiter.js'
import { preparedLeft } from './bank-check.js'
import { checkAtQuiescence, DECISION_SHARE, openBank, TransferWorkload, waitFor, type BankSummary, type DemoProgress } from './demo-workload.js'

export interface ClusterDemoOptions {
  /** Databases to use (fresh ones: the demo creates its tables there). */
  readonly pgUrl: string
  readonly mysqlUrl: string
  /** A fresh PostgreSQL database for the nodes' shared store (their decision log, leases). */
  readonly storeUrl: string
  readonly transfers?: number
  readonly concurrency?: number
  readonly accountsPerBank?: number
  readonly initialBalance?: number
  /** cluster.leaseMs of every node (default 2000: short, so the takeover comes quickly). */
  readonly leaseMs?: number
  /** cluster.takeoverIntervalMs (default 500). */
  readonly takeoverIntervalMs?: number
  /**
   * The second node kills itself with SIGKILL right after logging a decision,
   * about this far into the run (default 0.5), so that at least one decided
   * transfer is in doubt on it; if that fail point has not fired 15 % later,
   * the demo SIGKILLs the node itself.
   */
  readonly killAt?: number
  /** The three nodes' ids (default tm-a-…, tm-b-…, tm-c-… with a random suffix: MariaDB's XA RECOVER is server-wide). */
  readonly nodeIds?: readonly [string, string, string]
  readonly onProgress?: (progress: DemoProgress) => void
  /** Write the nodes' own logs (JSON lines) to this file at the end. */
  readonly tmLogFile?: string
  readonly log?: (line: string) => void
}

export interface ClusterDemoSummary extends BankSummary {
  readonly leaseMs: number
  readonly takeoverIntervalMs: number
  readonly nodes: readonly { readonly nodeId: string; readonly address: string }[]
  readonly killed?: {
    readonly nodeId: string
    /** Transfers finished when it died. */
    readonly afterTransfers: number
    /** 'fail point': it killed itself right after logging a decision; 'demo': the demo SIGKILLed it. */
    readonly by: 'fail point' | 'demo'
    /** Its prepared branches in the two databases right after it died: the in-doubt work a survivor must finish. */
    readonly preparedAtKill: number
  }
  readonly takeover?: {
    /** The node that took the dead one over (Admin.ListNodes: takenOverBy). */
    readonly by: string
    /** SIGKILL → the takeover (its epoch bumped, its transactions moved), by the store's clock. */
    readonly takenOverMs: number
    /** SIGKILL → none of its branches left prepared in either database. */
    readonly finishedMs: number
    /** Decided, unfinished transactions the taker moved to itself (from the taker's log). */
    readonly moved: number
  }
  /** Transfers each node committed (by the gtrid's node), before and after the kill. */
  readonly committedPerNode: Readonly<Record<string, { readonly beforeKill: number; readonly afterKill: number }>>
}

export async function runClusterDemo(options: ClusterDemoOptions): Promise<ClusterDemoSummary> {
  const total = options.transfers ?? 2000
  const concurrency = options.concurrency ?? 16
  const leaseMs = options.leaseMs ?? 2000
  const takeoverIntervalMs = options.takeoverIntervalMs ?? 500
  const killAt = options.killAt ?? 0.5
  const log = options.log ?? (() => undefined)
  const suffix = Math.random().toString(36).slice(2, 6)
  const nodeIds = options.nodeIds ?? [`tm-a-${suffix}`, `tm-b-${suffix}`, `tm-c-${suffix}`]
  const bank = await openBank(options.pgUrl, options.mysqlUrl, concurrency + 2, options.accountsPerBank ?? 20, options.initialBalance ?? 1000)

  // Each node gets a third of the transfers, and half of them once one is dead.
  const poolSize = Math.ceil(concurrency / 2) + 4
  const config = (nodeId: string) =>
    testConfig(
      [
        { name: 'pg', kind: 'postgres', url: options.pgUrl, poolSize },
        { name: 'mysql', kind: 'mysql', url: options.mysqlUrl, poolSize },
      ],
      {
        nodeId,
        log: { store: 'postgres', url: options.storeUrl },
        cluster: { leaseMs, takeoverIntervalMs },
        transactions: { defaultTimeoutMs: 10_000, localBranchGraceMs: 2000 },
      },
    )
  // The victim sees about a third of the decisions.
  const crashAfter = Math.max(1, Math.floor((total * killAt * DECISION_SHARE) / 3))
  const started = await Promise.allSettled(
    nodeIds.map((id, i) => ArbiterProcess.start(config(id), i === 1 ? { ARBITER_FAILPOINTS: `after-decision#${crashAfter}=crash` } : {})),
  )
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const client = createArbiterClient({ addresses: nodes.map((n) => n.address), defaultDeadlineMs: 15_000, outcomeQueryAttempts: 8 })
  try {
    const failed = started.find((s) => s.status === 'rejected')
    if (failed) throw failed.reason
    const [victim, ...survivors] = [nodes[1]!, nodes[0]!, nodes[2]!]
    const victimId = victim.config.nodeId!
    log(`three Arbiter nodes on one shared PostgreSQL store: ${nodes.map((n) => `${n.config.nodeId} at ${n.address}`).join(', ')}`)

    let workersDone = false
    let killedAt: number | undefined
    let killedBy: 'fail point' | 'demo' = 'fail point'
    let killed: ClusterDemoSummary['killed']
    let takeover: ClusterDemoSummary['takeover']
    const work = new TransferWorkload({
      client,
      bank,
      total,
      concurrency,
      onProgress: (p) => {
        options.onProgress?.(p)
        if (killedAt === undefined && victim.running && p.done >= total * Math.min(0.95, killAt + 0.15)) {
          killedBy = 'demo'
          void victim.kill()
        }
      },
    })

    const afterKill = async (): Promise<void> => {
      const at = killedAt!
      const preparedAtKill = (await preparedLeft(bank.pgPool, bank.mysqlPool, victimId)).total
      killed = { nodeId: victimId, afterTransfers: work.done, by: killedBy, preparedAtKill }
      log(
        `node ${victimId} was killed with SIGKILL after ${work.done} transfers${killedBy === 'fail point' ? ', right after logging a decision' : ''}; ` +
          `${preparedAtKill} of its branches are left prepared. Transfers go on through the other two nodes.`,
      )
      const row = await takenOver(survivors.map((n) => n.address), victimId, 60_000)
      if (!row) return log(`no node took ${victimId} over within 60 s`)
      const by = row.takenOverBy
      const takenOverMs = Math.max(0, Number(row.takenOverAtUnixMs) - at)
      log(`${by} took ${victimId} over ${takenOverMs} ms after the kill (its lease of ${leaseMs} ms lapsed); it is finishing the in-doubt transfers`)
      await waitFor(async () => (await preparedLeft(bank.pgPool, bank.mysqlPool, victimId)).total === 0, 60_000, 100)
      const finishedMs = Date.now() - at
      const taker = nodes.find((n) => n.config.nodeId === by)
      const line = taker?.logs().split('\n').find((l) => l.includes('took over a node') && l.includes(`"takenNodeId":"${victimId}"`))
      takeover = { by, takenOverMs, finishedMs, moved: Number(/"moved":(\d+)/.exec(line ?? '')?.[1] ?? 0) }
      log(`${by} finished ${takeover.moved} decided transfer(s) of ${victimId}: no branch of ${victimId} left prepared, ${finishedMs} ms after the kill`)
    }

    const t0 = Date.now()
    const monitored = victim
      .exited()
      .then(() => {
        if (workersDone) return
        killedAt = Date.now()
        return afterKill()
      })
      .catch((error: unknown) => log(`watching the takeover failed: ${error instanceof Error ? error.message : String(error)}`))
    await work.run()
    workersDone = true
    if (killedAt !== undefined) await monitored
    const durationMs = Date.now() - t0

    const summary = await checkAtQuiescence(bank, work, nodeIds, durationMs)
    const committedPerNode: Record<string, { beforeKill: number; afterKill: number }> = {}
    for (const id of nodeIds) committedPerNode[id] = { beforeKill: 0, afterKill: 0 }
    for (const record of work.outcomes.values()) {
      if (record.outcome !== 'committed' || record.gtrid === undefined) continue
      const counts = (committedPerNode[parseGtrid(record.gtrid).nodeId] ??= { beforeKill: 0, afterKill: 0 })
      if (killedAt === undefined || record.at < killedAt) counts.beforeKill++
      else counts.afterKill++
    }
    return {
      ...summary,
      leaseMs,
      takeoverIntervalMs,
      nodes: nodes.map((n) => ({ nodeId: n.config.nodeId!, address: n.address })),
      ...(killed && { killed }),
      ...(takeover && { takeover }),
      committedPerNode,
    }
  } finally {
    client.close()
    await Promise.all(nodes.map((n) => n.stop()))
    if (options.tmLogFile) writeFileSync(options.tmLogFile, nodes.map((n) => n.logs()).join(''))
    await Promise.all(nodes.map((n) => n.destroy()))
    await bank.close()
  }
}

/** Polls Admin.ListNodes on the survivors until `nodeId` shows as taken over; its row, or undefined after `timeoutMs`. */
async function takenOver(addresses: readonly string[], nodeId: string, timeoutMs: number): Promise<NodeInfo__Output | undefined> {
  const admins = addresses.map((address) => connectAdmin({ address, token: undefined, deadlineMs: 2000 }))
  let row: NodeInfo__Output | undefined
  try {
    await waitFor(
      async () => {
        for (const admin of admins) {
          try {
            row = (await admin.listNodes()).nodes.find((n) => n.nodeId === nodeId && n.takenOverBy !== '')
            return row !== undefined
          } catch {
            // this survivor is busy or down: ask the next
          }
        }
        return false
      },
      timeoutMs,
      100,
    )
    return row
  } finally {
    for (const admin of admins) admin.close()
  }
}
