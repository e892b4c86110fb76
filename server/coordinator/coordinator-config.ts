// What the coordinator is given: its configuration (the transactions and
// limits sections of server/config.ts), its collaborators and hooks, and the
// options a Begin carries. Types only, apart from coordinator.ts so that the
// modules it is made of (begin-admission.ts, known-transactions.ts,
// branch-work.ts…) can name them without importing the class they serve.
import type { DecisionLog } from '../log/decision-log.js'
import type { Logger } from '../logger.js'
import type { CallerLimitsConfig } from './caller-limits.js'
import type { CoordinatorObserver } from './observer.js'
import type { MemberDirectory } from './recalled-elsewhere.js'
import type { ResourceRegistry } from './resource-registry.js'
import type { Transaction } from './transaction.js'

/** Begin's options (BeginRequest). */
export interface BeginOptions {
  readonly timeoutMs?: number
  readonly labels?: Record<string, string>
  /** Only for a client-named transaction: the TM run the client learned (BeginResponse.tm_instance). */
  readonly tmInstance?: string
  /** Who begins it (the token's name), for the per-caller limits; undefined with auth off. */
  readonly caller?: string | undefined
}

export interface CoordinatorConfig {
  readonly nodeId: string
  readonly defaultTimeoutMs: number
  readonly maxTimeoutMs: number
  /** How long phase 2 waits for the application to commit its local branches itself. */
  readonly localBranchGraceMs: number
  /** How long a finished transaction stays queryable in memory. */
  readonly retentionMs: number
  /** How many finished transactions stay in memory at most, the oldest forgotten first (default 10 000). */
  readonly maxRetained?: number
  readonly limits: {
    readonly maxActiveTransactions: number
    readonly maxBranchesPerTransaction: number
    readonly maxStatementBytes: number
    readonly maxParams: number
    readonly maxRows: number
    readonly maxLabels: number
    /** Bytes of all label keys and values together (default 4096). */
    readonly maxLabelBytes?: number
  }
  /** Per-caller limits (caller-limits.ts); absent with auth off: no caller to tell apart. */
  readonly callers?: CallerLimitsConfig
}

export interface CoordinatorDeps {
  readonly config: CoordinatorConfig
  readonly resources: ResourceRegistry
  readonly log: DecisionLog
  readonly logger: Logger
  readonly onCommitted?: (tx: Transaction) => void
  readonly onRolledBack?: (tx: Transaction) => void
  /** Metrics: told of every transition worth counting (synchronous, no I/O). */
  readonly observer?: CoordinatorObserver
  /** An application's session ended without coming back (sessionLost): recovery expedites its orphans. */
  readonly onSessionLost?: (endedAt: number) => void
  /** In a cluster: who holds which transactions (a request for another node's is sent there: TM_WRONG_NODE). */
  readonly members?: MemberDirectory
}
