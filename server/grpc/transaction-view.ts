// The coordinator's Transaction as the wire's arbiter.v1.Transaction.
import type { Xid } from '../../adapters/types.js'
import type { Branch as WireBranch } from '../../proto/gen/arbiter/v1/Branch.js'
import type { BranchState } from '../../proto/gen/arbiter/v1/BranchState.js'
import type { Transaction as WireTransaction } from '../../proto/gen/arbiter/v1/Transaction.js'
import type { Xid as WireXid } from '../../proto/gen/arbiter/v1/Xid.js'
import type { Branch, Transaction } from '../coordinator/transaction.js'

const BRANCH_STATES: Record<Branch['state'], BranchState> = {
  active: 'BRANCH_STATE_ACTIVE',
  prepared: 'BRANCH_STATE_PREPARED',
  'read-only': 'BRANCH_STATE_READ_ONLY',
  committed: 'BRANCH_STATE_COMMITTED',
  'rolled-back': 'BRANCH_STATE_ROLLED_BACK',
  failed: 'BRANCH_STATE_FAILED',
  escaped: 'BRANCH_STATE_ESCAPED',
  abandoned: 'BRANCH_STATE_ABANDONED',
}

/** A branch's state as the wire spells it. */
export function toWireBranchState(state: Branch['state']): BranchState {
  return BRANCH_STATES[state]
}

export function toWireXid(xid: Xid): WireXid {
  return { formatId: xid.formatId, gtrid: xid.gtrid, bqual: xid.bqual }
}

export function toWireTransaction(tx: Transaction): WireTransaction {
  return {
    gtrid: tx.gtrid,
    state: `TRANSACTION_STATE_${tx.state}`,
    branches: tx.branches.map(
      (b): WireBranch => ({
        resource: b.resource,
        xid: toWireXid(b.xid),
        mode: b.mode === 'managed' ? 'BRANCH_MODE_MANAGED' : 'BRANCH_MODE_LOCAL',
        state: BRANCH_STATES[b.state],
        attempts: b.attempts,
        lastError: b.lastError ?? '',
      }),
    ),
    labels: { ...tx.labels },
    createdAtUnixMs: String(tx.beganAt),
    deadlineUnixMs: String(tx.deadline),
    updatedAtUnixMs: String(tx.updatedAt),
    abortReason: tx.abortReason ?? '',
    commitPath: tx.commitPath ?? '',
  }
}
