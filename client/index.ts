// The client library's public surface (`arbiter-tm/client`). Explicit named exports only.

// ── End users (applications) ───────────────────────────────────────────────
export { createArbiterClient } from './arbiter-client.js'
export type { ArbiterClient, GetTransactionOptions, RunResult, RunStatement } from './arbiter-client.js'
export type { EnlistOptions, Transaction } from './transaction.js'
export type { Statement } from './statements.js'
export type { ArbiterClientOptions, RetryOptions, TlsOptions, TransactionOptions, Transport, WaitFor } from './options.js'
export { decimal, double, json, TypedValue } from './values.js'
export type { Column, ExecuteResult, JsonParam, SqlParam } from './values.js'
export type { EnlistableConnection, EnlistableMysqlConnection, EnlistablePgClient } from './enlistable-connection.js'
export type { BranchInfo, BranchState, TransactionInfo, TransactionState } from './transaction-info.js'
export {
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
} from './errors.js'
export type { ArbiterErrorOptions } from './errors.js'

// ── Integrators (tools, other gRPC layers, tests) ──────────────────────────
export { fromGrpcError } from './errors.js'
export { fromProtoValue, toProtoValue } from './values.js'
export {
  DEFAULT_CHANNEL_OPTIONS,
  DEFAULT_DEADLINE_MS,
  DEFAULT_OUTCOME_QUERY_ATTEMPTS,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
} from './options.js'
export type { TmErrorCode } from '../proto/errors.js'
