// fromGrpcError(): the client's one conversion at the gRPC edge.
import { Metadata, status } from '@grpc/grpc-js'
import protobuf from 'protobufjs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ERROR_DOMAIN, TM_ERRORS, type TmErrorCode } from '../../../proto/errors.js'
import { PROTO_ROOT } from '../../../proto/load.js'
import {
  ArbiterError,
  HeuristicOutcomeError,
  IllegalStateError,
  InvalidArgumentError,
  OutcomeUnknownError,
  PermissionDeniedError,
  WrongNodeError,
  ResourceExhaustedError,
  TransactionAbortedError,
  TransactionNotFoundError,
  UnauthenticatedError,
  UnavailableError,
  fromGrpcError,
} from '../../../client/index.js'

const root = protobuf.loadSync([join(PROTO_ROOT, 'google/rpc/status.proto'), join(PROTO_ROOT, 'google/rpc/error_details.proto')])
const StatusType = root.lookupType('google.rpc.Status')
const ErrorInfoType = root.lookupType('google.rpc.ErrorInfo')

/** A ServiceError as grpc-js delivers it, with details encoded the way server/grpc/status.ts does. */
function serviceError(code: number, details: string, info?: { reason: string; metadata?: Record<string, string>; domain?: string }) {
  const metadata = new Metadata()
  if (info) {
    const value = ErrorInfoType.encode(ErrorInfoType.create({ domain: ERROR_DOMAIN, metadata: {}, ...info })).finish()
    const bytes = StatusType.encode(
      StatusType.create({ code, message: details, details: [{ type_url: 'type.googleapis.com/google.rpc.ErrorInfo', value }] }),
    ).finish()
    metadata.set('grpc-status-details-bin', Buffer.from(bytes))
  }
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata })
}

const CLASSES: Record<TmErrorCode, new (...args: never[]) => ArbiterError> = {
  TM_INVALID_ARGUMENT: InvalidArgumentError,
  TM_TX_NOT_FOUND: TransactionNotFoundError,
  TM_ILLEGAL_STATE: IllegalStateError,
  TM_TX_ABORTED: TransactionAbortedError,
  TM_RM_UNAVAILABLE: UnavailableError,
  TM_OVERLOADED: ResourceExhaustedError,
  TM_OUTCOME_UNKNOWN: OutcomeUnknownError,
  TM_HEURISTIC_MIXED: HeuristicOutcomeError,
  TM_UNAUTHENTICATED: UnauthenticatedError,
  TM_PERMISSION_DENIED: PermissionDeniedError,
  TM_WRONG_NODE: WrongNodeError,
  TM_INTERNAL: ArbiterError,
}

describe('fromGrpcError', () => {
  it.each(Object.keys(TM_ERRORS) as TmErrorCode[])('rebuilds %s from ErrorInfo.reason', (code) => {
    const grpcCode = TM_ERRORS[code].status
    const error = fromGrpcError(serviceError(grpcCode, 'the message', { reason: code, metadata: { gtrid: 'n:1', retryable: 'false' } }))
    expect(error).toBeInstanceOf(CLASSES[code])
    expect(error).toBeInstanceOf(ArbiterError)
    expect(error.code).toBe(code)
    expect(error.grpcCode).toBe(grpcCode)
    expect(error.message).toBe('the message')
    expect(error.details).toBe('the message')
    expect(error.retryable).toBe(false)
    expect(error.gtrid).toBe('n:1')
  })

  it('an abort says for itself whether a retry may help', () => {
    const retryable = fromGrpcError(serviceError(status.ABORTED, 'deadlock', { reason: 'TM_TX_ABORTED', metadata: { retryable: 'true', serverCode: '40P01' } }))
    expect(retryable).toBeInstanceOf(TransactionAbortedError)
    expect(retryable.retryable).toBe(true)
    expect((retryable as TransactionAbortedError).serverCode).toBe('40P01')
    expect((retryable as TransactionAbortedError).reason).toBe('deadlock')
    const check = fromGrpcError(serviceError(status.ABORTED, 'check', { reason: 'TM_TX_ABORTED', metadata: { retryable: 'false', serverCode: '23514' } }))
    expect(check.retryable).toBe(false)
  })

  it('falls back to the gRPC status code when there are no details', () => {
    expect(fromGrpcError(serviceError(status.UNAVAILABLE, 'No connection established'))).toBeInstanceOf(UnavailableError)
    expect(fromGrpcError(serviceError(status.UNAVAILABLE, 'x')).retryable).toBe(true)
    expect(fromGrpcError(serviceError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'))).toBeInstanceOf(OutcomeUnknownError)
    expect(fromGrpcError(serviceError(status.ABORTED, 'x'))).toBeInstanceOf(TransactionAbortedError)
    expect(fromGrpcError(serviceError(status.NOT_FOUND, 'x'))).toBeInstanceOf(TransactionNotFoundError)
    const cancelled = fromGrpcError(serviceError(status.CANCELLED, ''))
    expect(cancelled.constructor).toBe(ArbiterError)
    expect(cancelled.code).toBe('TM_INTERNAL')
    expect(cancelled.grpcCode).toBe(status.CANCELLED)
    expect(cancelled.message).toBe('gRPC status CANCELLED')
  })

  it('ignores ErrorInfo of another domain and undecodable details', () => {
    expect(fromGrpcError(serviceError(status.ABORTED, 'x', { reason: 'TM_TX_NOT_FOUND', domain: 'other.dev' }))).toBeInstanceOf(TransactionAbortedError)
    const garbage = serviceError(status.INVALID_ARGUMENT, 'x')
    garbage.metadata.set('grpc-status-details-bin', Buffer.from([0xff, 0xff, 0xff]))
    expect(fromGrpcError(garbage)).toBeInstanceOf(InvalidArgumentError)
  })

  it('passes an ArbiterError through and wraps anything else as TM_INTERNAL with the cause', () => {
    const mine = new IllegalStateError('x')
    expect(fromGrpcError(mine)).toBe(mine)
    const boom = new Error('boom')
    const wrapped = fromGrpcError(boom)
    expect(wrapped.code).toBe('TM_INTERNAL')
    expect(wrapped.cause).toBe(boom)
  })

  it('errors have their class name and the catalog status', () => {
    const e = new TransactionAbortedError('r')
    expect(e.name).toBe('TransactionAbortedError')
    expect(e.grpcCode).toBe(status.ABORTED)
    expect(e.retryable).toBe(true) // the catalog's answer when the TM did not say
    expect(String(e)).toBe('TransactionAbortedError: r')
  })
})

describe('transport messages', () => {
  it('drop the empty "Resolution note:" grpc-js ends a failed connection with (found by a newcomer)', () => {
    const e = fromGrpcError({ code: status.UNAVAILABLE, details: 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:50051. Resolution note: ', metadata: new Metadata() })
    expect(e.message).toBe('No connection established. Last error: connect ECONNREFUSED 127.0.0.1:50051')
    const noted = fromGrpcError({ code: status.UNAVAILABLE, details: 'name resolution failed. Resolution note: DNS said no', metadata: new Metadata() })
    expect(noted.message).toBe('name resolution failed. Resolution note: DNS said no')
  })
})
