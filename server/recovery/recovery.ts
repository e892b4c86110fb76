// Recovery (ARCHITECTURE.md, "Recovery"): at start-up, before the port
// opens, and then on an interval.
//
// 1. Every logged DECISION without END is committed again (idempotently).
// 2. On every resource, recover() lists Arbiter's prepared branches. Each is
//    committed when the log holds a COMMIT decision for it; carried out as an
//    operator resolved it; left alone while its transaction is live here or
//    belongs to another node; otherwise presumed aborted and rolled back, but
//    only once seen in two scans a grace period apart (a client may prepare a
//    local branch an instant before its Commit arrives), only while the log
//    is healthy, only where this node holds its node id (node-id-claim.ts:
//    another live TM with the same id would have branches that look like
//    this node's orphans), and only after the coordinator has closed the gtrid to
//    clients that name their transactions themselves (claimOrphan).
// A resource that is down is reported and retried next time; it never blocks
// the others.
import type { PreparedBranch, ResourceAdapter } from '../../adapters/types.js'
import { gtridNamedAt, parseGtrid, xidKey } from '../../adapters/xid/xid.js'
import type { Coordinator } from '../coordinator/coordinator.js'
import type { ResourceRegistry } from '../coordinator/resource-registry.js'
import type { DecisionLog, LoggedTransaction } from '../log/decision-log.js'
import type { Logger } from '../logger.js'
import { PassScheduler } from './pass-scheduler.js'
import { inRootSpan } from '../tracing/spans.js'

/** What the log (and the coordinator) know of a prepared branch. */
export type Knowledge = 'committed' | 'no-decision' | 'taken-over' | 'live' | 'resolved-commit' | 'resolved-rollback' | 'other-node' | 'foreign'
export type Action = 'commit' | 'rollback' | 'rollback-after-grace' | 'wait' | 'none'

export interface Assessment {
  readonly knowledge: Knowledge
  readonly action: Action
  /** Why, in words, for operators. */
  readonly why: string
}

export interface RecoveryStep {
  readonly resource: string
  readonly branch: PreparedBranch
  readonly action: Action
  /** "done", "already done", "seen, waiting for the grace period", or the error. */
  readonly result: string
  /** Why that action (Assessment.why). */
  readonly why?: string
}

export interface RecoveryReport {
  readonly steps: RecoveryStep[]
  /** Resources that could not be scanned, with the reason. */
  readonly unreachable: Record<string, string>
}

/** Nodes this one took over (cluster/takeover.ts): their orphans are this node's to presume aborted. */
export interface TakenOverNodes {
  adopts(nodeId: string): boolean
  /** When an adopted node first joined the shared store (ms); its orphans named before then were never the store's. */
  firstJoinedAt?(nodeId: string): number | undefined
  /** Marks the orphan aborted in the shared store first, so no node can ever log a decision for it. */
  presumeAborted(gtrid: string, nodeId: string): Promise<'aborted' | 'decided' | 'theirs' | 'refused'>
}

export interface RecoveryConfig {
  readonly nodeId: string
  /** A branch with no decision is rolled back only when seen again this much later. */
  readonly graceMs: number
  readonly intervalMs: number
  /** When this run of the TM began (ms): orphans named well before it need no grace. */
  readonly startedAt?: number
}

/**
 * How much earlier than this run's start a gtrid must be named to count as
 * named under an earlier run. A client of this run names its transactions
 * with this TM's clock as learned from a Begin answered after the port
 * opened (off by at most half of a 500 ms round trip). Safety never rests on
 * it: claimOrphan closes a gtrid before its branches are rolled back, so a
 * misjudged one (the clock stepped back) is refused, never half committed.
 */
const EARLIER_RUN_MARGIN_MS = 1_000
/** Clock difference allowed between a client that names a gtrid and its node (recovery's log-creation guard). */
const CREATED_MARGIN_MS = 250

export class Recovery {
  /** First sighting of each orphan candidate: "resource|xidKey" → ms. */
  private readonly firstSeen = new Map<string, number>()
  /**
   * An application's session ended at this time (and its transactions here
   * were rolled back): orphans already prepared then, or named before then,
   * are not waited on for the grace period (expedite()).
   */
  private expeditedBefore: number | undefined
  private timer: NodeJS.Timeout | undefined
  /** What the last full pass could not scan, and why (logged again only when it changes). */
  private lastUnreachable = '{}'
  /** Passes per scope ('' = every resource): shared while one is under way, or fresh after a change. */
  private readonly passes = new PassScheduler<RecoveryReport>((scope) => this.scanOnce(scope || undefined))

  constructor(
    private readonly deps: {
      readonly coordinator: Coordinator
      readonly resources: ResourceRegistry
      readonly log: DecisionLog
      readonly logger: Logger
      readonly config: RecoveryConfig
      readonly onScan?: (report: RecoveryReport) => void
      readonly takenOver?: TakenOverNodes | undefined
    },
  ) {}

  /** Runs once now, then every intervalMs. */
  start(): void {
    this.timer = setInterval(() => void this.scan().catch(() => undefined), this.deps.config.intervalMs).unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /**
   * An application's session ended at `endedAt` and did not come back within
   * transactions.localBranchGraceMs: its local branches, prepared and never
   * committed, hold their row locks until presumed aborted. A pass now rolls
   * back the orphans seen before `endedAt` or named before it, without the
   * grace period. Safe whoever they belong to: claimOrphan closes a gtrid
   * before its branches are rolled back, so a Commit that comes later is
   * refused (ABORTED), never committed over them; a live client only loses a
   * transaction whose Commit was that slow.
   */
  expedite(endedAt: number): void {
    this.expeditedBefore = Math.max(this.expeditedBefore ?? 0, endedAt)
    void this.scanAfterChange().catch(() => undefined)
  }

  /** One recovery pass; concurrent callers asking for the same scope share the pass in progress. */
  scan(onlyResource?: string): Promise<RecoveryReport> {
    return this.passes.shared(onlyResource ?? '')
  }

  /**
   * A full pass that begins after this call: for a caller that saw something
   * change (a session ended, a takeover moved transactions here). The pass
   * under way may have judged their branches before the change.
   */
  scanAfterChange(): Promise<RecoveryReport> {
    return this.passes.fresh('')
  }

  private async scanOnce(onlyResource?: string): Promise<RecoveryReport> {
    const expedited = this.expeditedBefore
    try {
      return await this.scanWith(onlyResource)
    } finally {
      // Done once a full pass ran with it (a later session's end set a later time).
      if (!onlyResource && this.expeditedBefore === expedited) this.expeditedBefore = undefined
    }
  }

  private async scanWith(onlyResource?: string): Promise<RecoveryReport> {
    // Taken before any resource is scanned: only what the whole pass saw may be ended after it.
    const unfinishedAtStart = this.deps.log.unfinished()
    for (const logged of unfinishedAtStart) {
      if (logged.decision) this.deps.coordinator.adoptDecision(logged)
    }
    const names = this.deps.resources.names().filter((n) => !onlyResource || n === onlyResource)
    const unreachable: Record<string, string> = {}
    const perResource = await Promise.all(
      names.map(async (name) => {
        try {
          return await this.scanResource(name)
        } catch (error) {
          unreachable[name] = error instanceof Error ? error.message : String(error)
          return []
        }
      }),
    )
    const report = { steps: perResource.flat(), unreachable }
    if (!onlyResource && Object.keys(unreachable).length === 0) await this.endFinishedResolutions(unfinishedAtStart, report.steps)
    // Quiet unless it did something or what is unreachable changed (a refused resource is unreachable every pass).
    const unreachableNow = JSON.stringify(unreachable)
    const unreachableChanged = unreachableNow !== this.lastUnreachable
    if (!onlyResource) this.lastUnreachable = unreachableNow
    if (report.steps.some((s) => s.action === 'commit' || s.action === 'rollback') || (unreachableChanged && !onlyResource)) {
      this.deps.logger.info(
        { steps: report.steps.map((s) => ({ resource: s.resource, id: s.branch.rawId, action: s.action, result: s.result, why: s.why })), unreachable },
        'recovery pass',
      )
    }
    this.deps.onScan?.(report)
    return report
  }

  /**
   * An operator's resolution of a transaction with no decision has no phase 2
   * that would log END, so without this its record would keep its log
   * segment forever. Once a full pass finds no branch of it still prepared
   * on any configured resource, it is over: END. Heuristic resolutions keep
   * their records (the audit trail of an outcome that broke atomicity), as
   * do resolutions on resources no longer configured (never scanned).
   */
  private async endFinishedResolutions(unfinishedAtStart: readonly LoggedTransaction[], steps: readonly RecoveryStep[]): Promise<void> {
    const stillPrepared = new Set(
      steps.filter((s) => s.result !== 'done' && s.result !== 'already done').map((s) => s.branch.xid.gtrid.toString()),
    )
    const scanned = new Set(this.deps.resources.names())
    const over = unfinishedAtStart.filter(
      (logged) =>
        !logged.decision &&
        logged.resolutions.length > 0 &&
        !logged.resolutions.some((r) => r.heuristic || !scanned.has(r.resource)) &&
        !stillPrepared.has(logged.gtrid) &&
        !this.deps.coordinator.isLive(logged.gtrid),
    )
    // Queued together, so they share one log write.
    await Promise.all(
      over.map((logged) =>
        this.deps.log.appendEnd(logged.gtrid, { now: true }).catch((error: unknown) => {
          this.deps.logger.warn({ gtrid: logged.gtrid, err: String(error) }, 'END of a resolved transaction not logged: the next pass tries again')
        }),
      ),
    )
  }

  private async scanResource(name: string): Promise<RecoveryStep[]> {
    const adapter = this.deps.resources.adapter(name)!
    if (!this.deps.resources.isReady(name)) throw new Error(this.deps.resources.lastError(name) ?? 'not connected yet')
    const branches = await adapter.recover()
    const seenNow = new Set<string>()
    const steps: RecoveryStep[] = []
    for (const branch of branches) {
      const key = `${name}|${xidKey(branch.xid)}`
      seenNow.add(key)
      // Judged and finished as the only actor on its transaction's branches (gtrid-lock.ts): an operator's
      // resolution under way finishes first, and this judges what it left (its logged resolution).
      steps.push(await this.deps.coordinator.exclusive(branch.xid.gtrid.toString(), () => this.finishBranch(name, adapter, branch, key)))
    }
    // Forget sightings of branches that are gone, so a later one starts its own grace.
    for (const key of this.firstSeen.keys()) if (key.startsWith(`${name}|`) && !seenNow.has(key)) this.firstSeen.delete(key)
    return steps
  }

  /** What one pass does with one prepared branch: judged (assess), then finished, or left, as that says. */
  private async finishBranch(name: string, adapter: ResourceAdapter, branch: PreparedBranch, key: string): Promise<RecoveryStep> {
    const assessment = this.assess(name, branch)
    let action = assessment.action
    let result = 'left alone'
    // Presumed abort: first make sure no client can begin this gtrid any more (it may have named it itself).
    if (action === 'rollback' && assessment.knowledge === 'no-decision' && !this.deps.coordinator.claimOrphan(branch.xid.gtrid.toString())) {
      action = 'wait'
      result = 'its transaction began meanwhile'
    }
    // In a cluster every presumed abort is marked in the shared store first (this node's own orphans too:
    // a node that took this one over may hold a decision for one), so no node can ever log a decision for it.
    if (action === 'rollback' && this.deps.takenOver && (assessment.knowledge === 'taken-over' || assessment.knowledge === 'no-decision')) {
      const gtrid = branch.xid.gtrid.toString()
      const marked = await this.deps.takenOver.presumeAborted(gtrid, parseGtrid(gtrid).nodeId).catch(() => 'failed' as const)
      if (marked === 'decided') {
        // A decision got in first, and this node drives it: commit, as any logged decision.
        const logged = this.deps.log.get(gtrid)
        if (logged) this.deps.coordinator.adoptDecision(logged)
        action = 'commit'
      } else if (marked !== 'aborted') {
        action = 'none'
        result = {
          theirs: 'decided, and driven by the node that took it over: left to it',
          refused: 'its node rejoined, or this node holds no lease: left alone',
          failed: 'the store did not answer: tried again next pass',
        }[marked]
      }
    }
    if (action === 'commit' || action === 'rollback') {
      const act = action
      // A trace of its own per branch recovery finishes (idle passes record nothing), linked to the
      // trace that decided it when the log kept one (a presumed abort has no decision to link to).
      result = await inRootSpan(
        `arbiter.recovery.${act}`,
        { 'arbiter.resource': name, 'arbiter.gtrid': branch.xid.gtrid.toString(), 'arbiter.knowledge': assessment.knowledge },
        async (span) => {
          try {
            const done = (await adapter[act](branch.xid)) === 'done' ? 'done' : 'already done'
            this.firstSeen.delete(key)
            return done
          } catch (error) {
            span.setAttribute('arbiter.recovery.failed', true)
            return `failed: ${error instanceof Error ? error.message : String(error)}`
          }
        },
        [this.deps.log.get(branch.xid.gtrid.toString())?.decision?.trace],
      )
    } else if (action === 'rollback-after-grace') {
      if (!this.firstSeen.has(key)) this.firstSeen.set(key, Date.now())
      result = 'seen, rolled back if still prepared after the grace period'
    }
    return { resource: name, branch, action, result, why: assessment.why }
  }

  /** What recovery will do with a prepared branch, and why (also for Admin.ListInDoubt). */
  assess(resource: string, branch: PreparedBranch): Assessment {
    const gtrid = branch.xid.gtrid.toString()
    let owner: string
    try {
      owner = parseGtrid(gtrid).nodeId
    } catch {
      return { knowledge: 'foreign', action: 'none', why: 'has Arbiter\'s formatId but not an Arbiter gtrid: never touched' }
    }
    const logged = this.deps.log.get(gtrid)
    const bqual = branch.xid.bqual.toString('hex')
    const resolution = logged?.resolutions.findLast((r) => r.resource === resource && r.bqual === bqual)
    if (resolution?.action === 'abandon') {
      // Given up as gone for good, and here it is: the decision says commit, which makes the outcome whole again
      // for this branch (the transaction still reads HEURISTIC: an operator gave it up meanwhile).
      return { knowledge: 'committed', action: 'commit', why: `decision logged; abandoned by ${resolution.operator} (${resolution.reason}), found prepared again` }
    }
    if (resolution) {
      return {
        knowledge: resolution.action === 'commit' ? 'resolved-commit' : 'resolved-rollback',
        action: resolution.action,
        why: `resolved by ${resolution.operator}: ${resolution.reason}`,
      }
    }
    if (logged?.decision) {
      if (this.deps.coordinator.isLive(gtrid)) return { knowledge: 'committed', action: 'wait', why: 'decision logged; phase 2 is running' }
      return { knowledge: 'committed', action: 'commit', why: 'decision logged' }
    }
    if (this.deps.coordinator.isLive(gtrid)) return { knowledge: 'live', action: 'wait', why: 'its transaction is in progress on this TM' }
    if (owner !== this.deps.config.nodeId && !this.deps.takenOver?.adopts(owner)) return { knowledge: 'other-node', action: 'none', why: `owned by TM node "${owner}"` }
    if (owner === this.deps.config.nodeId && !this.deps.resources.holdsNodeId(resource)) {
      // Another live TM may have this node id (node-id-claim.ts): its branches would look like our orphans.
      return { knowledge: 'no-decision', action: 'wait', why: `this node does not hold its node id at resource "${resource}" now: nothing is presumed` }
    }
    if (!this.deps.log.healthy()) return { knowledge: 'no-decision', action: 'wait', why: 'the decision log is not healthy: nothing is presumed' }
    // Named before its node's log existed: its decision, if it has one, is in a log this node cannot see. Found by
    // hostile testing: a relative dataDir from another working directory, and a log.url naming another shared store
    // (there: when its node first joined this store), presumed a logged commit aborted.
    // Both times by the owner's clock but for a client-named gtrid (the client's: CREATED_MARGIN_MS). A node that
    // restarts on another log takes longer than that, so what it named before is still guarded.
    const created = owner === this.deps.config.nodeId ? this.deps.log.createdAt?.() : this.deps.takenOver?.firstJoinedAt?.(owner)
    if (created !== undefined && namedAt(gtrid) < created - CREATED_MARGIN_MS) {
      return {
        knowledge: 'no-decision',
        action: 'wait',
        why:
          `named before ${owner === this.deps.config.nodeId ? "this node's" : `node "${owner}"'s`} decision log was created ` +
          `(${new Date(created).toISOString()}; for the shared store, when the node first joined it): its decision, if any, is in a log ` +
          'this node cannot see (is dataDir the right folder? a relative one is resolved against the working directory; is its volume mounted? ' +
          'does log.url name the store the node used before? was its clock right when it first joined?). Never presumed aborted: resolve it by hand (arbiter admin resolve) once you know',
      }
    }
    if (owner !== this.deps.config.nodeId) {
      // Its node is fenced out (its epoch moved on): no Commit there can be logged any more.
      return { knowledge: 'taken-over', action: 'rollback', why: `no decision, and its node "${owner}" was taken over by this one (its lease lapsed): presumed abort` }
    }
    const first = this.firstSeen.get(`${resource}|${xidKey(branch.xid)}`)
    if (this.deps.coordinator.rolledBackHere(gtrid)) {
      // Its Commit can only be refused now: no grace needed.
      return { knowledge: 'no-decision', action: 'rollback', why: 'its transaction rolled back on this TM: presumed abort' }
    }
    // Named under an earlier run of this TM (it died or restarted): a Commit of it can only be refused now
    // (a Begin-begun one is unknown here, a client-named one has the old tm_instance): no grace needed.
    const startedAt = this.deps.config.startedAt
    if (startedAt !== undefined && namedAt(gtrid) < startedAt - EARLIER_RUN_MARGIN_MS) {
      return { knowledge: 'no-decision', action: 'rollback', why: 'no decision, and named under an earlier run of this TM: presumed abort' }
    }
    const expedited = this.expeditedBefore
    if (expedited !== undefined && ((first !== undefined && first <= expedited) || namedAt(gtrid) <= expedited)) {
      return { knowledge: 'no-decision', action: 'rollback', why: "no decision, and its application's session ended without a Commit: presumed abort" }
    }
    if (first !== undefined && Date.now() - first >= this.deps.config.graceMs) {
      return { knowledge: 'no-decision', action: 'rollback', why: 'no decision and not live: presumed abort' }
    }
    return { knowledge: 'no-decision', action: 'rollback-after-grace', why: 'no decision: rolled back if still prepared after the grace period' }
  }
}

/** When the gtrid was named (its ULID's time); never earlier than anything for one that does not parse. */
function namedAt(gtrid: string): number {
  return gtridNamedAt(gtrid) ?? Number.POSITIVE_INFINITY
}
