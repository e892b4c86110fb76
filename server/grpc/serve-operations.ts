// The TransactionManager operations served over gRPC: each as a unary call
// (continuing its caller's trace, named by its token, with the answer size
// the client announced) and all of them multiplexed on the two Session
// streams (session-stream.ts). Split from transaction-manager-service.ts,
// which implements the operations: serving them is the same for every one.
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js'
import type { TransactionManagerHandlers } from '../../proto/gen/arbiter/v1/TransactionManager.js'
import { CLIENT_MAX_RECEIVE_BYTES_HEADER } from '../../proto/message-batcher.js'
import type { SessionTie } from '../coordinator/transaction.js'
import type { Logger } from '../logger.js'
import type { SessionRequestObserver } from '../metrics/session-request-metrics.js'
import { inRequestSpan, type TraceCarrier } from '../tracing/spans.js'
import { principalOf } from './auth-interceptor.js'
import { batchedSessionHandler, sessionHandler, SessionRegistry } from './session-stream.js'
import type { TransactionManagerOperations } from './transaction-manager-service.js'
import { unary } from './unary.js'

/** What the session streams tell the coordinator about the transactions on them. */
export interface SessionHooks {
  /** A request for this transaction came on this session. */
  readonly bind: (gtrid: string, tie: SessionTie, caller: string | undefined) => void
  /** A client's last session on its connection ended without the TM ending it. */
  readonly lost: (tie: SessionTie) => void
}

/** The limits of config.limits that the session streams apply. */
export interface SessionLimits {
  readonly maxSessionRequestsInFlight: number
  readonly maxMessageBytes: number
}

/** The handlers serveOperations() makes: every method but ListMembers (list-members.ts), which is about the node, not a transaction. */
type OperationHandlers = Pick<
  TransactionManagerHandlers,
  'Begin' | 'Execute' | 'ExecuteBatch' | 'Enlist' | 'Commit' | 'CompleteLocalBranches' | 'Rollback' | 'GetTransaction' | 'Run' | 'Session' | 'BatchedSession'
>

/** The operations as unary handlers plus the two Session streams. */
export function serveOperations(
  ops: TransactionManagerOperations,
  logger: Logger,
  limits: SessionLimits,
  observeSessionRequest?: SessionRequestObserver,
  hooks?: SessionHooks,
): { handlers: OperationHandlers; sessions: SessionRegistry } {
  const sessions = new SessionRegistry(hooks?.lost)
  const session = {
    ops,
    registry: sessions,
    logger,
    maxInFlight: limits.maxSessionRequestsInFlight,
    maxMessageBytes: limits.maxMessageBytes,
    observe: observeSessionRequest,
    bind: hooks?.bind,
  }
  // Each unary call continues its caller's trace (W3C traceparent metadata): tracing/spans.ts.
  const traced = <Req, Res>(method: string, fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res) =>
    unary<Req, Res>(logger, method, (req, call) => inRequestSpan(method, traceOf(call.metadata), () => fn(req, call)))
  const handlers: OperationHandlers = {
    Begin: traced('Begin', (req, call) => ops.begin(req, principalOf(call)?.name)),
    Execute: traced('Execute', (req, call) => ops.execute(req, principalOf(call)?.name, announcedReceive(call.metadata))),
    ExecuteBatch: traced('ExecuteBatch', (req, call) => ops.executeBatch(req, principalOf(call)?.name, announcedReceive(call.metadata))),
    Enlist: traced('Enlist', (req, call) => ops.enlist(req, principalOf(call)?.name)),
    Commit: traced('Commit', (req, call) => ops.commit(req, principalOf(call)?.name)),
    CompleteLocalBranches: traced('CompleteLocalBranches', (req, call) => ops.completeLocalBranches(req, principalOf(call)?.name)),
    Rollback: traced('Rollback', (req, call) => ops.rollback(req, principalOf(call)?.name)),
    GetTransaction: traced('GetTransaction', (req, call) => ops.getTransaction(req, principalOf(call)?.name)),
    Run: traced('Run', (req, call) => ops.run(req, principalOf(call)?.name, announcedReceive(call.metadata))),
    Session: sessionHandler(session),
    BatchedSession: batchedSessionHandler(session),
  }
  return { handlers, sessions }
}

/** The caller's W3C trace context in a unary call's metadata. */
function traceOf(metadata: Metadata): TraceCarrier {
  const [traceparent] = metadata.get('traceparent')
  if (typeof traceparent !== 'string') return {}
  const [tracestate] = metadata.get('tracestate')
  return { traceparent, tracestate: typeof tracestate === 'string' ? tracestate : undefined }
}

/** What the client announced it receives in one message (header arbiter-max-receive-bytes), if it did. */
export function announcedReceive(metadata: Metadata): number | undefined {
  const [value] = metadata.get(CLIENT_MAX_RECEIVE_BYTES_HEADER)
  // Whole numbers only (-1: no limit); anything else counts as not announced (gRPC's default then).
  return typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : undefined
}
