// The client's typed errors and its one conversion at the gRPC edge,
// fromGrpcError(): the server puts google.rpc.Status with an ErrorInfo
// (reason = catalog code, metadata incl. retryable) into the
// grpc-status-details-bin trailer; we rebuild the exact error from it, and
// fall back to the gRPC status code when a status carries no details (a
// proxy, a client-side deadline, a lost connection).
import { status as GrpcStatus } from '@grpc/grpc-js'
import protobuf from 'protobufjs'
import { join } from 'node:path'
import { ERROR_DOMAIN, TM_ERRORS, isTmErrorCode, type TmErrorCode } from '../proto/errors.js'
import { PROTO_ROOT } from '../proto/load.js'

/** Options shared by every ArbiterError constructor. */
export interface ArbiterErrorOptions {
  /** The gRPC status the error arrived with (default: the catalog's status for the code). */
  readonly grpcCode?: number
  /** google.rpc.ErrorInfo.metadata as sent by the TM (e.g. gtrid, serverCode, retryable). Default: empty. */
  readonly metadata?: Readonly<Record<string, string>>
  /** Overrides the retryable flag (default: metadata.retryable when present, else the catalog's answer). */
  readonly retryable?: boolean
  readonly cause?: unknown
}

/**
 * Every error the client throws for the TM. `code` is the catalog code
 * (docs/error-codes.md), `details` (= `message`) the server's message,
 * `retryable` whether retrying may help (data, never parsed from text).
 */
export class ArbiterError extends Error {
  override readonly name: string = 'ArbiterError'
  /** The catalog code, e.g. 'TM_TX_ABORTED'. */
  readonly code: TmErrorCode
  /** The gRPC status code (for errors raised in the client: the status the TM would have used). */
  readonly grpcCode: number
  /** The server's message (same as `message`). */
  readonly details: string
  /** ErrorInfo metadata from the TM (empty when the status carried no details). */
  readonly metadata: Readonly<Record<string, string>>
  /** Whether retrying may help: for an abort, whether retrying the whole transaction may help. */
  readonly retryable: boolean

  constructor(code: TmErrorCode, details: string, options: ArbiterErrorOptions = {}) {
    super(details, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = details
    this.grpcCode = options.grpcCode ?? TM_ERRORS[code].status
    this.metadata = Object.freeze({ ...(options.metadata ?? {}) })
    const hint = this.metadata.retryable
    this.retryable = options.retryable ?? (hint !== undefined ? hint === 'true' : TM_ERRORS[code].retryable)
  }

  /** The transaction the error is about, when the TM said (metadata.gtrid). */
  get gtrid(): string | undefined {
    return this.metadata.gtrid
  }
}

/**
 * The transaction rolled back (vote no, deadlock victim, deadline, a failed
 * statement). Retry the whole transaction only when `retryable` is true.
 */
export class TransactionAbortedError extends ArbiterError {
  override readonly name: string = 'TransactionAbortedError'
  constructor(details: string, options: ArbiterErrorOptions = {}) {
    super('TM_TX_ABORTED', details, options)
  }
  /** Why it rolled back (the server's message). */
  get reason(): string {
    return this.details
  }
  /** The database's own error code when a statement or vote failed (SQLSTATE or MySQL errno). */
  get serverCode(): string | undefined {
    return this.metadata.serverCode
  }
}

/**
 * Whether the transaction committed is not known (a deadline or a lost
 * connection during Commit). Never retry blindly: ask getTransaction(gtrid).
 */
export class OutcomeUnknownError extends ArbiterError {
  override readonly name: string = 'OutcomeUnknownError'
  constructor(details: string, options: ArbiterErrorOptions = {}) {
    super('TM_OUTCOME_UNKNOWN', details, options)
  }
}

/** The TM does not know the transaction: presumed aborted (or long forgotten). */
export class TransactionNotFoundError extends ArbiterError {
  override readonly name: string = 'TransactionNotFoundError'
  constructor(details: string, options: ArbiterErrorOptions = {}) {
    super('TM_TX_NOT_FOUND', details, options)
  }
}

/** An operator resolved a branch against the decision: the outcome is mixed. Never success. */
export class HeuristicOutcomeError extends ArbiterError {
  override readonly name: string = 'HeuristicOutcomeError'
  constructor(details: string, options: ArbiterErrorOptions = {}) {
    super('TM_HEURISTIC_MIXED', details, options)
  }
}

/** The TM or a resource is unreachable (or the TM is draining): back off and retry the call. */
export class UnavailableError extends ArbiterError {
  override readonly name: string = 'UnavailableError'
  constructor(details: string, options: ArbiterErrorOptions = {}) {
    super('TM_RM_UNAVAILABLE', details, options)
  }
}

/** Bad input (from the TM, or caught in the client before any call). Fix the request. */
export class InvalidArgumentError extends ArbiterError {
  override readonly name: string = 'InvalidArgumentError'
  constructor(details: string, options: ArbiterErrorOptions = {}) {
    super('TM_INVALID_ARGUMENT', details, options)
  }
}

/** The call does not fit the transaction's state (commit after rollback, a connection enlisted twice…). */
export class IllegalStateError extends ArbiterError {
  override readonly name: string = 'IllegalStateError'
  constructor(details: string, options: ArbiterErrorOptions = {}) {
    super('TM_ILLEGAL_STATE', details, options)
  }
}

/** The TM's transaction or pool limits are reached: back off and retry. */
export class ResourceExhaustedError extends ArbiterError {
  override readonly name: string = 'ResourceExhaustedError'
  constructor(details: string, options: ArbiterErrorOptions = {}) {
    super('TM_OVERLOADED', details, options)
  }
}

/** No or an invalid token. */
export class UnauthenticatedError extends ArbiterError {
  override readonly name: string = 'UnauthenticatedError'
  constructor(details: string, options: ArbiterErrorOptions = {}) {
    super('TM_UNAUTHENTICATED', details, options)
  }
}

/** The token lacks the needed role. */
export class PermissionDeniedError extends ArbiterError {
  override readonly name: string = 'PermissionDeniedError'
  constructor(details: string, options: ArbiterErrorOptions = {}) {
    super('TM_PERMISSION_DENIED', details, options)
  }
}

/**
 * The request reached a node of a cluster that does not hold its
 * transaction: nothing ran. `metadata.node` and `metadata.address` name the
 * node that does; a client created with several addresses sends it there itself.
 */
export class WrongNodeError extends ArbiterError {
  override readonly name: string = 'WrongNodeError'
  constructor(details: string, options: ArbiterErrorOptions = {}) {
    super('TM_WRONG_NODE', details, options)
  }
}

type ErrorClass = new (details: string, options?: ArbiterErrorOptions) => ArbiterError

const CLASS_OF: Partial<Record<TmErrorCode, ErrorClass>> = {
  TM_TX_ABORTED: TransactionAbortedError,
  TM_OUTCOME_UNKNOWN: OutcomeUnknownError,
  TM_TX_NOT_FOUND: TransactionNotFoundError,
  TM_HEURISTIC_MIXED: HeuristicOutcomeError,
  TM_RM_UNAVAILABLE: UnavailableError,
  TM_INVALID_ARGUMENT: InvalidArgumentError,
  TM_ILLEGAL_STATE: IllegalStateError,
  TM_OVERLOADED: ResourceExhaustedError,
  TM_UNAUTHENTICATED: UnauthenticatedError,
  TM_PERMISSION_DENIED: PermissionDeniedError,
  TM_WRONG_NODE: WrongNodeError,
}

/** The catalog code for a bare gRPC status (no ErrorInfo). */
const CODE_OF_STATUS: Partial<Record<number, TmErrorCode>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 'TM_INVALID_ARGUMENT',
  [GrpcStatus.NOT_FOUND]: 'TM_TX_NOT_FOUND',
  [GrpcStatus.FAILED_PRECONDITION]: 'TM_ILLEGAL_STATE',
  [GrpcStatus.ABORTED]: 'TM_TX_ABORTED',
  [GrpcStatus.UNAVAILABLE]: 'TM_RM_UNAVAILABLE',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'TM_OVERLOADED',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'TM_OUTCOME_UNKNOWN',
  [GrpcStatus.UNAUTHENTICATED]: 'TM_UNAUTHENTICATED',
  [GrpcStatus.PERMISSION_DENIED]: 'TM_PERMISSION_DENIED',
}

/** Builds the error class for a catalog code (TM_INTERNAL and unknown codes: the base ArbiterError). */
export function arbiterErrorFor(code: TmErrorCode, details: string, options: ArbiterErrorOptions = {}): ArbiterError {
  const Class = CLASS_OF[code]
  return Class ? new Class(details, options) : new ArbiterError(code, details, options)
}

let decoder: { status: protobuf.Type; errorInfo: protobuf.Type } | undefined

function types(): { status: protobuf.Type; errorInfo: protobuf.Type } {
  if (!decoder) {
    const root = protobuf.loadSync([join(PROTO_ROOT, 'google/rpc/status.proto'), join(PROTO_ROOT, 'google/rpc/error_details.proto')])
    decoder = { status: root.lookupType('google.rpc.Status'), errorInfo: root.lookupType('google.rpc.ErrorInfo') }
  }
  return decoder
}

interface ErrorInfo {
  reason: string
  domain: string
  metadata: Record<string, string>
}

type AnyDetail = { type_url?: string; typeUrl?: string; value?: Uint8Array }

/** Arbiter's ErrorInfo among a google.rpc.Status's details, if any (undecodable details count as none). */
function errorInfoIn(details: readonly AnyDetail[]): ErrorInfo | undefined {
  try {
    const { errorInfo } = types()
    for (const any of details) {
      const typeUrl = any.type_url ?? any.typeUrl ?? ''
      if (!typeUrl.endsWith('/google.rpc.ErrorInfo') || any.value === undefined) continue
      const info = errorInfo.toObject(errorInfo.decode(any.value), { defaults: true }) as ErrorInfo
      if (info.domain === ERROR_DOMAIN) return info
    }
  } catch {
    // A status we cannot read: fall back to the bare gRPC code.
  }
  return undefined
}

/** The ErrorInfo in a grpc-status-details-bin value, if any. */
function errorInfoOf(detailsBin: unknown): ErrorInfo | undefined {
  if (!Buffer.isBuffer(detailsBin)) return undefined
  try {
    const { status } = types()
    const decoded = status.toObject(status.decode(detailsBin), { defaults: true }) as { details?: AnyDetail[] }
    return errorInfoIn(decoded.details ?? [])
  } catch {
    return undefined
  }
}

interface ServiceErrorLike {
  code: number
  details?: string
  message?: string
  metadata?: { get(key: string): unknown[] }
}

function isServiceErrorLike(error: unknown): error is ServiceErrorLike {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number'
}

/**
 * The one conversion from a grpc-js error to the client's typed errors. An
 * ArbiterError passes through; a gRPC status with Arbiter's ErrorInfo
 * becomes the exact error (reason = catalog code, metadata kept); one
 * without details maps by its status code; anything else becomes a base
 * ArbiterError with code TM_INTERNAL and the original on `cause`.
 */
export function fromGrpcError(error: unknown): ArbiterError {
  if (error instanceof ArbiterError) return error
  if (!isServiceErrorLike(error)) {
    return new ArbiterError('TM_INTERNAL', error instanceof Error ? error.message : String(error), { cause: error })
  }
  const details = transportDetails(error.details ?? error.message ?? '')
  return fromCodeAndInfo(error.code, details, errorInfoOf(error.metadata?.get('grpc-status-details-bin')[0]), error)
}

/**
 * @internal A status message as a person reads it: grpc-js ends a failed connection's with "Resolution note: " even
 * when it has no note (found by a newcomer: every "TM not running" error ended with that dangling label).
 */
export function transportDetails(details: string): string {
  return details.replace(/\.?\s*Resolution note:\s*$/, '')
}

/** The typed error for a google.rpc.Status that answered one request on the Session stream. */
export function fromWireStatus(status: { code: number; message: string; details: readonly AnyDetail[] }): ArbiterError {
  return fromCodeAndInfo(status.code, status.message, errorInfoIn(status.details), status)
}

/** Errors that are the TM's own answer (they carried Arbiter's ErrorInfo), not a transport's or a proxy's. */
const tmAnswers = new WeakSet<ArbiterError>()

/**
 * @internal True when the TM itself sent this error (with its ErrorInfo): it
 * received the request and says what became of it. A bare status (a lost
 * connection, a deadline, a message over a size limit) may have come after
 * the TM acted.
 */
export function isTmAnswer(error: ArbiterError): boolean {
  return tmAnswers.has(error)
}

function fromCodeAndInfo(grpcCode: number, details: string, info: ErrorInfo | undefined, cause: unknown): ArbiterError {
  if (info !== undefined && isTmErrorCode(info.reason)) {
    const error = arbiterErrorFor(info.reason, details, { grpcCode, metadata: info.metadata, cause })
    tmAnswers.add(error)
    return error
  }
  const code = CODE_OF_STATUS[grpcCode] ?? 'TM_INTERNAL'
  const text = details || `gRPC status ${GrpcStatus[grpcCode] ?? grpcCode}`
  return arbiterErrorFor(code, text, { grpcCode, cause })
}
