// The resources the TM may coordinate, by name. A resource that is down at
// start-up does not stop the TM: it is initialised again in the background
// and its calls get UNAVAILABLE meanwhile. A resource whose server answers
// but cannot do what Arbiter needs (PostgreSQL with max_prepared_transactions
// = 0, a login refused: the adapter's 'fatal' class) is REFUSED: the node
// runs without it, says why (logs, Admin.ListResources, /readyz), and checks
// again in the background, so it comes back by itself once fixed.
//
// Each resource is also where the node holds its node id (node-id-claim.ts):
// claimed after init, before the resource is ready. A resource where another
// live TM holds the same id is REFUSED (so this node begins nothing there and
// its recovery presumes nothing there). A claim lost later (its session
// ended) is taken again in the background; meanwhile nothing begins there
// and recovery presumes nothing there (holdsNodeId).
import { createHash } from 'node:crypto'
import { isNodeIdInUse, within, type NodeIdClaim } from '../../adapters/node-id-claim.js'
import { AdapterError, type ResourceAdapter } from '../../adapters/types.js'
import { TmError } from '../../proto/errors.js'
import type { Logger } from '../logger.js'
import { backoffDelay, sleep } from './backoff.js'

/** connecting: not initialised yet (or unreachable); ready: in use; refused: the server cannot serve Arbiter as configured. */
export type ResourceStatus = 'connecting' | 'ready' | 'refused'

interface Entry {
  readonly adapter: ResourceAdapter
  status: ResourceStatus
  lastError: string | undefined
  initializing: Promise<void> | undefined
  /** The node id's claim while held (always undefined when the registry claims nothing). */
  claim: NodeIdClaim | undefined
  /** Refused because another live TM holds this node's id there. */
  nodeIdInUse: boolean
}

export interface ResourceRegistryOptions {
  /** The node id to claim at every resource; none: nothing is claimed (tools and tests that run no recovery). */
  readonly nodeId?: string
}

/** The longest wait between two attempts to take a lost node-id claim again while the resource answers. */
const RECLAIM_MAX_MS = 1_000
/** How long closeAll waits for a resource's start-up or claim under way. */
const CLOSE_WAIT_MS = 3_000

/** The longest wait between two checks of a resource that is down or refused. */
export const RESOURCE_RECHECK_MAX_MS = 10_000

export class ResourceRegistry {
  private readonly entries = new Map<string, Entry>()
  /** identityTag() per identity: the hash is made once, not on every decision. */
  private readonly tags = new Map<string, string>()
  /** Aborted by closeAll: ends the retry loops and their sleeps at once. */
  private readonly closing = new AbortController()
  private readonly background = new Set<Promise<void>>()

  constructor(
    adapters: readonly ResourceAdapter[],
    private readonly logger: Logger,
    private readonly options: ResourceRegistryOptions = {},
  ) {
    for (const adapter of adapters) {
      this.entries.set(adapter.name, { adapter, status: 'connecting', lastError: undefined, initializing: undefined, claim: undefined, nodeIdInUse: false })
    }
  }

  /**
   * Initialises every resource; waits at most `waitMs` before leaving the
   * slow ones to the background. The timers here hold the event loop on
   * purpose: start-up awaits them, and with the metrics port off nothing
   * else may be open yet (an unref'd wait let Node exit with code 13,
   * "unsettled top-level await", in the middle of start-up).
   */
  async initAll(waitMs: number): Promise<void> {
    // Settled: ready, or refused (a server that answered that it cannot serve Arbiter as configured, which waiting
    // does not change: found by a newcomer, every misconfigured start paid the whole wait).
    const settled = [...this.entries.values()].map((e) => new Promise<void>((resolve) => void this.initInBackground(e, resolve)))
    const waited = new AbortController()
    await Promise.race([Promise.all(settled), sleep(waitMs, AbortSignal.any([waited.signal, this.closing.signal]))])
    waited.abort() // all done early: the wait's timer must not hold the process any longer
  }

  private initInBackground(entry: Entry, onSettled?: () => void): Promise<void> {
    entry.initializing ??= (async () => {
      const name = entry.adapter.name
      for (let attempt = 0; !this.closing.signal.aborted; attempt++) {
        try {
          await entry.adapter.init()
          if (entry.claim === undefined) await this.claim(entry)
          this.stillClaimed(entry)
          this.markReady(entry)
          this.logger.info({ resource: name, kind: entry.adapter.kind }, 'resource ready')
          onSettled?.()
          return
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          const refused = error instanceof AdapterError && error.errorClass === 'fatal'
          const changed = message !== entry.lastError || (entry.status === 'refused') !== refused
          entry.status = refused ? 'refused' : 'connecting'
          entry.lastError = message
          entry.nodeIdInUse = isNodeIdInUse(error)
          if (refused) {
            // Said once loudly (and again when the reason changes); the checks that follow are quiet.
            const level = changed ? 'error' : 'debug'
            this.logger[level]({ resource: name, err: message, attempt }, 'resource refused: the node runs without it and checks again in the background')
            onSettled?.()
          } else {
            this.logger.warn({ resource: name, err: message, attempt }, 'resource not ready, retrying')
          }
          // Held (not unref'd): during start-up this retry may be the only thing keeping the process alive; closeAll ends it.
          await sleep(backoffDelay(attempt, { baseMs: 200, capMs: RESOURCE_RECHECK_MAX_MS }), this.closing.signal)
        }
      }
    })().finally(() => (entry.initializing = undefined))
    return entry.initializing
  }

  /** Takes the node id at the entry's resource (nothing when no node id is set); watches for its loss. */
  private async claim(entry: Entry): Promise<void> {
    const nodeId = this.options.nodeId
    if (nodeId === undefined) return
    const claim = await entry.adapter.claimNodeId(nodeId)
    if (this.closing.signal.aborted) {
      await claim.release()
      return
    }
    entry.claim = claim
    void claim.lost.then((reason) => {
      if (entry.claim !== claim || this.closing.signal.aborted) return
      entry.claim = undefined
      // Lost before the resource was ready: the loop taking it notices (stillClaimed) and tries again.
      if (entry.status !== 'ready') return
      // Nothing begins here meanwhile either: a duplicate that took the id could presume a new branch aborted.
      entry.status = 'connecting'
      entry.lastError = `this node is taking its node id claim there again (${reason})`
      this.logger.warn({ resource: entry.adapter.name, nodeId, reason }, 'node id claim lost: nothing begins and recovery presumes nothing on this resource until the node holds it again')
      this.track(this.reclaimInBackground(entry))
    })
  }

  private markReady(entry: Entry): void {
    entry.status = 'ready'
    entry.lastError = undefined
    entry.nodeIdInUse = false
  }

  /** Throws (retryable) when the claim just taken was lost before the resource could be called ready. */
  private stillClaimed(entry: Entry): void {
    if (this.options.nodeId !== undefined && entry.claim === undefined && !this.closing.signal.aborted) {
      throw new AdapterError('retryable', entry.adapter.name, 'its node id claim was lost as it was taken')
    }
  }

  /** Background work closeAll waits for (briefly), so no claim is taken after it returned. */
  private track(work: Promise<void>): void {
    this.background.add(work)
    void work.finally(() => this.background.delete(work))
  }

  /**
   * Takes a lost claim again: once the server answers, the claim is held
   * again within RECLAIM_MAX_MS and the resource is ready, or it is refused
   * when another TM holds the id now, and is then checked again like any
   * refused resource.
   */
  private async reclaimInBackground(entry: Entry): Promise<void> {
    const name = entry.adapter.name
    for (let attempt = 0; !this.closing.signal.aborted && entry.claim === undefined; attempt++) {
      try {
        await this.claim(entry)
        if (this.closing.signal.aborted) return
        this.stillClaimed(entry)
        this.logger.info({ resource: name }, 'resource ready: the node holds its node id there again')
        this.markReady(entry)
        return
      } catch (error) {
        if (isNodeIdInUse(error)) {
          if (entry.status !== 'refused') this.logger.error({ resource: name, err: error.message }, 'resource refused: the node runs without it and checks again in the background')
          entry.status = 'refused'
          entry.lastError = error.message
          entry.nodeIdInUse = true
        } else if (entry.status !== 'refused') {
          entry.lastError = `this node is taking its node id claim there again: ${error instanceof Error ? error.message : String(error)}`
        }
        const capMs = entry.status === 'refused' ? RESOURCE_RECHECK_MAX_MS : RECLAIM_MAX_MS
        await sleep(backoffDelay(attempt, { baseMs: 100, capMs }), this.closing.signal)
      }
    }
  }

  /**
   * True while this node holds its node id at the resource (or claims none):
   * only then may recovery presume a branch of this node's aborted there.
   */
  holdsNodeId(name: string): boolean {
    const entry = this.entries.get(name)
    return entry !== undefined && (this.options.nodeId === undefined || entry.claim !== undefined)
  }

  has(name: string): boolean {
    return this.entries.has(name)
  }

  /**
   * A short tag of the server and database `name` reaches (ResourceAdapter.identity), recorded with each
   * branch of a decision: undefined until it is known, or where the server reports nothing stable.
   */
  identityTag(name: string): string | undefined {
    const identity = this.entries.get(name)?.adapter.identity?.()
    if (identity === undefined) return undefined
    // On every decision's path: hashed once per identity.
    let tag = this.tags.get(identity)
    if (tag === undefined) this.tags.set(identity, (tag = identityTag(identity)))
    return tag
  }

  /** identityTag() read from the server again (undefined when it cannot say). */
  async freshIdentityTag(name: string): Promise<string | undefined> {
    const identity = await this.entries.get(name)?.adapter.refreshIdentity?.().catch(() => undefined)
    return identity === undefined ? undefined : this.identityTag(name)
  }

  /** What the adapter reports of its server, for messages. */
  identity(name: string): string | undefined {
    return this.entries.get(name)?.adapter.identity?.()
  }

  /** The adapter for new work; INVALID_ARGUMENT for an unknown name, UNAVAILABLE while it is down or refused. */
  require(name: string): ResourceAdapter {
    const entry = this.entries.get(name)
    if (!entry) {
      throw new TmError('TM_INVALID_ARGUMENT', `unknown resource "${name}" (configured: ${this.names().join(', ') || 'none'})`)
    }
    if (entry.status === 'refused') {
      throw new TmError(
        'TM_RM_UNAVAILABLE',
        `resource "${name}" is refused: ${entry.lastError ?? 'its server cannot serve Arbiter'} (the TM checks it again every ${RESOURCE_RECHECK_MAX_MS / 1000} s)`,
        { metadata: { resource: name } },
      )
    }
    if (entry.status !== 'ready') {
      throw new TmError('TM_RM_UNAVAILABLE', `resource "${name}" is not available: ${entry.lastError ?? 'still connecting'}`, { metadata: { resource: name } })
    }
    return entry.adapter
  }

  /** The adapter whatever its state (phase 2 and recovery retry on their own). */
  adapter(name: string): ResourceAdapter | undefined {
    return this.entries.get(name)?.adapter
  }

  isReady(name: string): boolean {
    return this.entries.get(name)?.status === 'ready'
  }

  status(name: string): ResourceStatus | undefined {
    return this.entries.get(name)?.status
  }

  /** The refused resources with the reason, in config order. */
  refused(): { readonly name: string; readonly reason: string }[] {
    return [...this.entries.values()]
      .filter((e) => e.status === 'refused')
      .map((e) => ({ name: e.adapter.name, reason: e.lastError ?? 'refused' }))
  }

  /** The resources refused because another live TM holds this node's id there (the node is then not ready). */
  nodeIdConflicts(): { readonly name: string; readonly reason: string }[] {
    return [...this.entries.values()].filter((e) => e.status === 'refused' && e.nodeIdInUse).map((e) => ({ name: e.adapter.name, reason: e.lastError ?? 'node id in use' }))
  }

  lastError(name: string): string | undefined {
    return this.entries.get(name)?.lastError
  }

  names(): string[] {
    return [...this.entries.keys()]
  }

  all(): ResourceAdapter[] {
    return [...this.entries.values()].map((e) => e.adapter)
  }

  async closeAll(): Promise<void> {
    this.closing.abort()
    // A claim attempt under way releases what it gets once it sees the abort; wait a little for it.
    const underWay = [...this.background, ...[...this.entries.values()].flatMap((e) => (e.initializing ? [e.initializing] : []))]
    await Promise.race([Promise.allSettled(underWay), new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())])
    await Promise.allSettled(
      [...this.entries.values()].map(async (e) => {
        const claim = e.claim
        e.claim = undefined
        await claim?.release()
        // Bounded: a pool waits for its connections to come back, and one stuck on a paused server never does
        // (found by hostile testing: a graceful stop waited for ever). The process exits after its stop anyway.
        await within(e.adapter.close(), CLOSE_WAIT_MS, 'closing its pool').catch((error: unknown) =>
          this.logger.warn({ resource: e.adapter.name, err: String(error) }, 'resource pool did not close in time: left to the process exit'),
        )
      }),
    )
  }
}

/** 16 characters of the identity's SHA-256: enough to tell servers apart, small in every decision record. */
export function identityTag(identity: string): string {
  return createHash('sha256').update(identity).digest('base64url').slice(0, 16)
}
