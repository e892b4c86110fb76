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

/** One attempt: the claim, the words that say who holds the id, or that a session this process gave up holds it. */
export type ClaimAttempt = { readonly claim: NodeIdClaim } | { readonly heldBy: string } | { readonly ownStale: string }

/**
 * This process's mark on its claims. One TM may configure two resources on
 * the same database (two pools, say): their claims meet at one lock, and the
 * second finds the first's session holding it. That is not another TM, and
 * the mark tells it so (sharedClaim). Per process: two TMs inside one
 * process with one node id are not told apart (nothing deploys that).
 */
export const CLAIM_INSTANCE = randomBytes(4).toString('hex')

/**
 * How often a held claim proves its session still works, and how long one
 * proof may take. The server frees a claim only after its session has been
 * silent for far longer (PostgreSQL about 25 s, MariaDB 60 s, the Redis key
 * 20 s), so a holder cut off from its server knows it lost the claim (within
 * HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS) before anyone else can take it.
 */
export const HEARTBEAT_MS = 5_000
export const HEARTBEAT_TIMEOUT_MS = 4_000
/** The longest a release waits for its session to end politely before it is cut. */
const RELEASE_WAIT_MS = 1_000

/** `p`, or a rejection once `ms` passed. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)))
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

/**
 * A claim on a session: lost when the session says so (`loss`), or when a
 * heartbeat fails or takes too long; its session is closed once lost or
 * released (`close` must not hang: it cuts the connection, or ends it politely
 * within RELEASE_WAIT_MS).
 */
export function heldClaim(loss: LossSignal, heartbeat: () => Promise<unknown>, close: () => Promise<void>): NodeIdClaim {
  const beat = setInterval(() => {
    within(heartbeat(), HEARTBEAT_TIMEOUT_MS, 'its heartbeat').catch((error: unknown) =>
      loss.lose(`its session stopped answering: ${error instanceof Error ? error.message : String(error)}`),
    )
  }, HEARTBEAT_MS).unref()
  let closed: Promise<void> | undefined
  const closeOnce = (): Promise<void> => (closed ??= within(close(), RELEASE_WAIT_MS, 'closing its session').catch(() => undefined))
  void loss.lost.then(() => {
    clearInterval(beat)
    return closeOnce()
  })
  return {
    lost: loss.lost,
    release: async () => {
      loss.lose('released')
      await closeOnce()
    },
  }
}

/** The loss of each claim this process holds, by what names its session at the server (shared claims follow it). */
const primaries = new Map<string, Promise<string>>()

/** `claim` holds the id on the session the server knows as `holder` (PostgreSQL pid, MySQL connection id, Redis client id). */
export function registerPrimary(holder: string, claim: NodeIdClaim): void {
  primaries.set(holder, claim.lost)
  void claim.lost.then(() => {
    if (primaries.get(holder) === claim.lost) primaries.delete(holder)
  })
}

/**
 * The attempt's answer when the id's holder is a session of this same TM
 * (`holder`: that session, named as registerPrimary names it): a claim that
 * is lost as soon as that session's claim is, and checked every HEARTBEAT_MS
 * (`stillOurs`) on the attempt's own session (`loss` its signals). When no
 * claim of this process holds that session any more, it is one this process
 * gave up that the server has not dropped yet: the attempt's session is
 * closed and the claim waits for the server (ownStale), nothing shares it.
 */
export async function sharedClaim(loss: LossSignal, holder: string, stillOurs: () => Promise<boolean>, close: () => Promise<void>): Promise<ClaimAttempt> {
  const primary = primaries.get(holder)
  if (primary === undefined) {
    await close()
    return { ownStale: 'a session of this TM that it has given up (its connection was cut) still holds the node id at the server, until the server drops it' }
  }
  void primary.then((reason) => loss.lose(`the claim it shared with another resource of this TM on the same server was lost: ${reason}`))
  const claim = heldClaim(
    loss,
    async () => {
      if (!(await stillOurs())) throw new Error('another resource of this TM no longer holds the id here')
    },
    close,
  )
  return { claim }
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
    if (Date.now() + CLAIM_POLL_MS > deadline) {
      // This TM's own old session is not another TM: not a refusal, the resource just is not ready yet.
      if ('ownStale' in tried) throw new AdapterError('retryable', resource, `node id "${nodeId}" cannot be claimed yet: ${tried.ownStale}`)
      throw new NodeIdInUseError(resource, nodeId, tried.heldBy)
    }
    await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS))
  }
}

/** A 31-bit key for the id (PostgreSQL's advisory lock): the same on every node, never negative. */
export function nodeIdLockKey(nodeId: string): number {
  return createHash('sha1').update(`arbiter-node:${nodeId}`).digest().readUInt32BE(0) & 0x7fffffff
}

/** The advisory-lock key of this process's mark beside the id's lock (PostgreSQL): see CLAIM_INSTANCE. */
export function instanceLockKey(nodeId: string): number {
  return nodeIdLockKey(`${nodeId}:${CLAIM_INSTANCE}`)
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
export interface LossSignal {
  readonly lost: Promise<string>
  lose(reason: string): void
}

export function lossSignal(): LossSignal {
  let lose: (reason: string) => void = () => undefined
  const lost = new Promise<string>((resolve) => (lose = resolve))
  return { lost, lose: (reason) => lose(reason) }
}
