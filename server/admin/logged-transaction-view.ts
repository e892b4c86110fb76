// A transaction as the decision log remembers it, for when memory does not
// (after a restart, or once the coordinator forgot a finished one): the
// decision's branches, what operators resolved, and the state that follows.
import { parseGtrid, xidFromParts, ARBITER_FORMAT_ID } from '../../adapters/xid/xid.js'
import type { Branch as WireBranch } from '../../proto/gen/arbiter/v1/Branch.js'
import type { Transaction as WireTransaction } from '../../proto/gen/arbiter/v1/Transaction.js'
import type { TransactionState } from '../../proto/gen/arbiter/v1/TransactionState.js'
import type { LoggedTransaction } from '../log/decision-log.js'
import { heuristicReason, mixingResolution, resolutionText } from '../log/log-record.js'
import { resolvedState } from '../coordinator/operator-resolutions.js'
import { toWireBranchState, toWireXid } from '../grpc/transaction-view.js'

/** The branches of `wire` with the log's resolutions filled in (the in-memory view does not carry who and why). */
export function withResolutions(wire: WireTransaction, logged: LoggedTransaction | undefined): WireTransaction {
  if (!logged || logged.resolutions.length === 0) return wire
  const branches = (wire.branches ?? []).map((b) => {
    const bqual = b.xid?.bqual === undefined ? undefined : Buffer.from(b.xid.bqual as Uint8Array).toString('hex')
    const r = logged.resolutions.findLast((x) => x.resource === b.resource && x.bqual === bqual)
    return r ? { ...b, resolution: resolutionText(r) } : b
  })
  return { ...wire, branches }
}

export function loggedTransactionView(logged: LoggedTransaction): WireTransaction {
  const branches = new Map<string, WireBranch>()
  const keyOf = (resource: string, bqual: string): string => `${resource}|${bqual}`
  const xidOf = (bqual: string) => toWireXid(xidFromParts(ARBITER_FORMAT_ID, Buffer.from(logged.gtrid), Buffer.from(bqual, 'hex')))
  for (const b of logged.decision?.branches ?? []) {
    branches.set(keyOf(b.resource, b.bqual), {
      resource: b.resource,
      xid: xidOf(b.bqual),
      mode: 'BRANCH_MODE_MANAGED',
      state: logged.ended ? 'BRANCH_STATE_COMMITTED' : 'BRANCH_STATE_PREPARED',
      attempts: 0,
      lastError: '',
    })
  }
  for (const r of logged.resolutions) {
    branches.set(keyOf(r.resource, r.bqual), {
      resource: r.resource,
      xid: xidOf(r.bqual),
      mode: 'BRANCH_MODE_MANAGED',
      // An abandoned branch is not known to have committed, nor rolled back (found by review: it read ROLLED_BACK).
      state: toWireBranchState(resolvedState(r.action)),
      attempts: 0,
      lastError: '',
      resolution: resolutionText(r),
    })
  }
  const heuristic = mixingResolution(logged.decision !== undefined, logged.resolutions)
  let state: TransactionState
  if (heuristic) state = 'TRANSACTION_STATE_HEURISTIC'
  else if (logged.decision) state = logged.ended ? 'TRANSACTION_STATE_COMMITTED' : 'TRANSACTION_STATE_COMMITTING'
  else state = 'TRANSACTION_STATE_ROLLED_BACK' // presumed abort; only rollbacks were resolved without force
  let createdAt = logged.decision?.at ?? 0
  try {
    createdAt = parseGtrid(logged.gtrid).createdAt.getTime()
  } catch {
    // not an Arbiter gtrid: keep the decision's time
  }
  const times = [logged.decision?.at ?? 0, ...logged.resolutions.map((r) => r.at)]
  return {
    gtrid: logged.gtrid,
    state,
    branches: [...branches.values()],
    labels: {},
    createdAtUnixMs: String(createdAt),
    deadlineUnixMs: '0',
    updatedAtUnixMs: String(Math.max(...times)),
    abortReason: heuristic ? heuristicReason(heuristic) : '',
    commitPath: logged.decision ? 'two-phase' : '',
  }
}
