// The error catalog: the one place that says which gRPC status each Arbiter
// error travels as, and whether a caller may retry. The mapping is a public
// contract (docs/error-codes.md, held to this file by
// test/unit/docs/error-codes.test.ts); never move a code to another status.
import { status as GrpcStatus } from '@grpc/grpc-js'

export const TM_ERRORS = {
  TM_INVALID_ARGUMENT: { status: GrpcStatus.INVALID_ARGUMENT, retryable: false, action: 'fix the request' },
  TM_TX_NOT_FOUND: { status: GrpcStatus.NOT_FOUND, retryable: false, action: 'stop: unknown transaction, presumed aborted' },
  TM_ILLEGAL_STATE: { status: GrpcStatus.FAILED_PRECONDITION, retryable: false, action: 'stop: the transaction is not in a state that allows this call' },
  TM_TX_ABORTED: { status: GrpcStatus.ABORTED, retryable: true, action: 'the transaction rolled back: retry the whole transaction' },
  TM_RM_UNAVAILABLE: { status: GrpcStatus.UNAVAILABLE, retryable: true, action: 'back off and retry the same call' },
  TM_OVERLOADED: { status: GrpcStatus.RESOURCE_EXHAUSTED, retryable: true, action: 'back off and retry' },
  TM_OUTCOME_UNKNOWN: { status: GrpcStatus.DEADLINE_EXCEEDED, retryable: false, action: 'call GetTransaction to learn the outcome; do not retry blindly' },
  TM_HEURISTIC_MIXED: { status: GrpcStatus.INTERNAL, retryable: false, action: 'an operator resolves it with the Admin service' },
  TM_UNAUTHENTICATED: { status: GrpcStatus.UNAUTHENTICATED, retryable: false, action: 'send a valid token' },
  TM_PERMISSION_DENIED: { status: GrpcStatus.PERMISSION_DENIED, retryable: false, action: 'use a credential with the needed role' },
  TM_WRONG_NODE: { status: GrpcStatus.FAILED_PRECONDITION, retryable: false, action: 'send the request to the node in metadata.address: the transaction is that node\'s' },
  TM_INTERNAL: { status: GrpcStatus.INTERNAL, retryable: false, action: 'report it' },
} as const

export type TmErrorCode = keyof typeof TM_ERRORS

/** The domain in google.rpc.ErrorInfo for Arbiter's errors. */
export const ERROR_DOMAIN = 'arbiter.dev'

export class TmError extends Error {
  override readonly name = 'TmError'
  /** Goes on the wire in google.rpc.ErrorInfo.metadata (e.g. resource, serverCode). */
  readonly metadata: Readonly<Record<string, string>>

  constructor(
    readonly code: TmErrorCode,
    message: string,
    options?: { cause?: unknown; metadata?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.metadata = options?.metadata ?? {}
  }

  /**
   * Whether retrying may help: the catalog's answer, except that an abort
   * says for itself (a deadlock is worth retrying, a CHECK violation is not).
   */
  get retryable(): boolean {
    const hint = this.metadata.retryable
    if (hint !== undefined) return hint === 'true'
    return TM_ERRORS[this.code].retryable
  }

  get grpcStatus(): GrpcStatus {
    return TM_ERRORS[this.code].status
  }

}

export function isTmErrorCode(value: string): value is TmErrorCode {
  return Object.hasOwn(TM_ERRORS, value)
}
