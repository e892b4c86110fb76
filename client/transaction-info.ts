// The wire's arbiter.v1.Transaction as a plain, typed object for applications.
import type { Transaction__Output } from '../proto/gen/arbiter/v1/Transaction.js'
import type { Branch__Output } from '../proto/gen/arbiter/v1/Branch.js'

/** A transaction's state at the TM (ACTIVE → PREPARING → COMMITTING → COMMITTED, or → ROLLING_BACK → ROLLED_BACK). */
export type TransactionState =
  | 'UNSPECIFIED'
  | 'ACTIVE'
  | 'PREPARING'
  /** The COMMIT decision is durable; phase 2 is running. */
  | 'COMMITTING'
  | 'COMMITTED'
  | 'ROLLING_BACK'
  | 'ROLLED_BACK'
  /** An operator resolved a branch against the decision: the outcome is mixed. */
  | 'HEURISTIC'
  /** Its one writing branch's one-phase COMMIT lost its connection: only that database knows; check the data. */
  | 'OUTCOME_UNKNOWN'

/** A branch's state. */
export type BranchState = 'UNSPECIFIED' | 'ACTIVE' | 'PREPARED' | 'READ_ONLY' | 'COMMITTED' | 'ROLLED_BACK' | 'FAILED' | 'ESCAPED' | 'ABANDONED'

/** One branch of a transaction. */
export interface BranchInfo {
  readonly resource: string
  /** 'managed': the TM runs its statements (execute); 'local': the application does (enlist). */
  readonly mode: 'managed' | 'local' | 'unspecified'
  readonly state: BranchState
  /** The branch qualifier, as text. */
  readonly bqual: string
  /** Phase-2 attempts so far. */
  readonly attempts: number
  /** The last phase-2 error, or '' when none. */
  readonly lastError: string
}

/** What the TM knows of a transaction (client.getTransaction(), client.run()). */
export interface TransactionInfo {
  readonly gtrid: string
  readonly state: TransactionState
  readonly branches: readonly BranchInfo[]
  readonly labels: Readonly<Record<string, string>>
  readonly createdAt: Date
  readonly deadline: Date
  readonly updatedAt: Date
  /** Why it rolled back, or '' when it did not. */
  readonly abortReason: string
  /** 'one-phase', 'read-only' or 'two-phase' once committed, else ''. */
  readonly commitPath: string
}

function strip<T extends string>(value: string, prefix: string, fallback: T): T {
  return (value.startsWith(prefix) ? value.slice(prefix.length) : fallback) as T
}

function toBranchInfo(b: Branch__Output): BranchInfo {
  return {
    resource: b.resource,
    mode: b.mode === 'BRANCH_MODE_MANAGED' ? 'managed' : b.mode === 'BRANCH_MODE_LOCAL' ? 'local' : 'unspecified',
    state: strip<BranchState>(b.state, 'BRANCH_STATE_', 'UNSPECIFIED'),
    bqual: b.xid ? b.xid.bqual.toString() : '',
    attempts: b.attempts,
    lastError: b.lastError,
  }
}

/** The wire message as a TransactionInfo. */
export function toTransactionInfo(tx: Transaction__Output): TransactionInfo {
  return {
    gtrid: tx.gtrid,
    state: strip<TransactionState>(tx.state, 'TRANSACTION_STATE_', 'UNSPECIFIED'),
    branches: tx.branches.map(toBranchInfo),
    labels: { ...tx.labels },
    createdAt: new Date(Number(tx.createdAtUnixMs)),
    deadline: new Date(Number(tx.deadlineUnixMs)),
    updatedAt: new Date(Number(tx.updatedAtUnixMs)),
    abortReason: tx.abortReason,
    commitPath: tx.commitPath,
  }
}
