// A TM node's claim on its node id at one resource.
//
// Presumed abort rests on one assumption: a prepared branch whose gtrid names
// this node and that this node's log does not know is an orphan of this node,
// so rolling it back breaks nothing. Two live TMs given the same node id break
// it: each one's recovery rolls back the other's undecided branches, and a
// transaction the other commits ends half committed. So every node holds its
// id at every resource for as long as it runs, on a session of its own that
// the server ties to the claim (a PostgreSQL advisory lock, a MariaDB
// GET_LOCK, a Redis key naming a connection that must stay connected). The
// server frees it when that session ends, a crash included, so a restarted
// node gets it back at once, and a second live node with the same id is told
// who holds it and refused there (ResourceRegistry), before it can touch a
// branch.
import { createHash, randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { AdapterError } from './types.js'

/** A held claim. The server keeps it while its session lives. */
export interface NodeIdClaim {
  /**
   * Settles (never rejects) with the reason once the claim is lost: its
   * session ended (the server restarted, a network cut, an operator killed
   * it) or, on Redis, its key now names another connection.
   */
  readonly lost: Promise<string>
  /** Gives the claim up and ends its session. Never throws. */
  release(): Promise<void>
}

/** One attempt: the claim, or the words that say who holds the id. */
export type ClaimAttempt = { readonly claim: NodeIdClaim } | { readonly heldBy: string }

/**
 * This process's mark on its claims. One TM may configure two resources on
 * the same database (two pools, say): their claims meet at one lock, and the
 * second finds the first's session holding it. That is not another TM, and
 * the mark tells it so (sharedClaim). Per process: two TMs inside one
 * process with one node id are not told apart (nothing deploys that).
 */
export const CLAIM_INSTANCE = randomBytes(4).toString('hex')

/** How often a shared claim checks that this TM still holds the id there. */
export const SHARED_CHECK_MS = 5_000

/**
 * The claim of a resource whose lock another session of this same TM holds:
 * held as long as that session does, checked every SHARED_CHECK_MS
 * (`stillOurs`); `close` ends the session the checks run on.
 */
export function sharedClaim(stillOurs: () => Promise<boolean>, close: () => Promise<void>): NodeIdClaim {
  const loss = lossSignal()
  const check = setInterval(() => {
    stillOurs().then(
      (ours) => {
        if (!ours) loss.lose('the claim this resource shared with another resource of this TM on the same server is gone')
      },
      (error: unknown) => loss.lose(`its check stopped answering: ${String(error)}`),
    )
  }, SHARED_CHECK_MS).unref()
  void loss.lost.then(async () => {
    clearInterval(check)
    await close().catch(() => undefined)
  })
  return {
    lost: loss.lost,
    release: async () => {
      loss.lose('released')
      await close().catch(() => undefined)
    },
  }
}

/** The node id is held at this resource by another live session. */
export class NodeIdInUseError extends AdapterError {
  readonly nodeIdInUse = true
  constructor(resource: string, nodeId: string, heldBy: string) {
    super(
      'fatal',
      resource,
      `node id "${nodeId}" is in use at resource "${resource}" by another live session (${heldBy}): ` +
        'two TMs with one node id would roll back each other\'s transactions, so this node leaves the resource alone until the other lets go; ' +
        'give each TM its own nodeId (or ARBITER_NODE_ID), or stop the other one',
    )
  }
}

/** True for the refusal above (also across module copies: by its marker). */
export function isNodeIdInUse(error: unknown): error is NodeIdInUseError {
  return error instanceof AdapterError && (error as { nodeIdInUse?: unknown }).nodeIdInUse === true
}

/**
 * How long a claim waits for an id held by a session that is ending. A node
 * restarted right after a crash may ask before the server has noticed its old
 * session is gone (milliseconds on one machine); waiting a little spares it a
 * refusal and the background recheck.
 */
export const CLAIM_WAIT_MS = 1_500
const CLAIM_POLL_MS = 150

/** Tries `attempt` until it holds the id or CLAIM_WAIT_MS passed; then NodeIdInUseError. */
export async function claimWithin(resource: string, nodeId: string, attempt: () => Promise<ClaimAttempt>, waitMs = CLAIM_WAIT_MS): Promise<NodeIdClaim> {
  const deadline = Date.now() + waitMs
  for (;;) {
    const tried = await attempt()
    if ('claim' in tried) return tried.claim
    if (Date.now() + CLAIM_POLL_MS > deadline) throw new NodeIdInUseError(resource, nodeId, tried.heldBy)
    await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS))
  }
}

/** A 31-bit key for the id (PostgreSQL's advisory lock): the same on every node, never negative. */
export function nodeIdLockKey(nodeId: string): number {
  return createHash('sha1').update(`arbiter-node:${nodeId}`).digest().readUInt32BE(0) & 0x7fffffff
}

/** The name MariaDB's GET_LOCK and Redis's client name carry (at most 45 characters: a node id is ≤ 32). */
export function nodeIdLockName(nodeId: string): string {
  return `arbiter-node:${nodeId}`
}

/** Who this process is, for the operator reading a refusal on the other node (and the mark: sharedClaim). */
export function claimantLabel(nodeId: string): string {
  return `arbiter ${nodeId} ${CLAIM_INSTANCE} pid ${process.pid} on ${hostname()}`
}

/** The name of the lock (MariaDB) or connection (Redis) that marks a holder as this process's. */
export function instanceLockName(nodeId: string): string {
  return `${nodeIdLockName(nodeId)}:${CLAIM_INSTANCE}`
}

/** A settled-once signal of loss: the first reason wins. */
export function lossSignal(): { readonly lost: Promise<string>; lose(reason: string): void } {
  let lose: (reason: string) => void = () => undefined
  const lost = new Promise<string>((resolve) => (lose = resolve))
  return { lost, lose: (reason) => lose(reason) }
}
