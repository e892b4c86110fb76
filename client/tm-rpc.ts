// The generated TransactionManager client, promisified: every call gets the
// token metadata, a deadline, optional cancellation by an AbortSignal, and
// its error converted once to the typed errors. Calls travel on the Session
// stream (session-transport.ts) or, with transport 'unary', each as its own
// gRPC call; callers cannot tell the two apart.
import * as grpc from '@grpc/grpc-js'
import { loadArbiterProto } from '../proto/load.js'
import type { TransactionManagerClient } from '../proto/gen/arbiter/v1/TransactionManager.js'
import type { BeginRequest } from '../proto/gen/arbiter/v1/BeginRequest.js'
import type { BeginResponse__Output } from '../proto/gen/arbiter/v1/BeginResponse.js'
import type { ExecuteRequest } from '../proto/gen/arbiter/v1/ExecuteRequest.js'
import type { ExecuteResponse__Output } from '../proto/gen/arbiter/v1/ExecuteResponse.js'
import type { ExecuteBatchRequest } from '../proto/gen/arbiter/v1/ExecuteBatchRequest.js'
import type { ExecuteBatchResponse__Output } from '../proto/gen/arbiter/v1/ExecuteBatchResponse.js'
import type { CommitRequest } from '../proto/gen/arbiter/v1/CommitRequest.js'
import type { CommitResponse__Output } from '../proto/gen/arbiter/v1/CommitResponse.js'
import type { CompleteLocalBranchesRequest } from '../proto/gen/arbiter/v1/CompleteLocalBranchesRequest.js'
import type { CompleteLocalBranchesResponse__Output } from '../proto/gen/arbiter/v1/CompleteLocalBranchesResponse.js'
import type { RollbackRequest } from '../proto/gen/arbiter/v1/RollbackRequest.js'
import type { RollbackResponse__Output } from '../proto/gen/arbiter/v1/RollbackResponse.js'
import type { GetTransactionRequest } from '../proto/gen/arbiter/v1/GetTransactionRequest.js'
import type { Transaction__Output } from '../proto/gen/arbiter/v1/Transaction.js'
import type { RunRequest } from '../proto/gen/arbiter/v1/RunRequest.js'
import type { RunResponse__Output } from '../proto/gen/arbiter/v1/RunResponse.js'
import type { ListMembersResponse__Output } from '../proto/gen/arbiter/v1/ListMembersResponse.js'
import { ArbiterError, fromGrpcError } from './errors.js'
import { activeTraceHeaders } from './tracing.js'
import type { ResolvedClientOptions } from './options.js'
import { SessionTransport, type SessionKind } from './session-transport.js'
import { CLIENT_MAX_RECEIVE_BYTES_HEADER, GRPC_DEFAULT_MAX_RECEIVE_BYTES } from '../proto/message-batcher.js'
import { CompletionReports } from './completion-reports.js'
import { TransactionNamer, type NamedTransaction } from './transaction-namer.js'

/** Per-call options. */
export interface RpcCallOptions {
  /** Cancels the call; it then rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined
  /** This call's deadline (default: the client's defaultDeadlineMs). */
  readonly deadlineMs?: number | undefined
}

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: grpc.requestCallback<Res>,
) => grpc.ClientUnaryCall

function credentialsOf(options: ResolvedClientOptions): grpc.ChannelCredentials {
  const tls = options.tls
  if (!tls) return grpc.credentials.createInsecure()
  const buf = (v: Buffer | string | undefined): Buffer | null => (v === undefined ? null : Buffer.from(v))
  return grpc.credentials.createSsl(buf(tls.ca), buf(tls.key), buf(tls.cert))
}

/** @internal The promisified TransactionManager stub. */
export class TmRpc {
  private readonly raw: TransactionManagerClient
  private readonly session: SessionTransport | undefined

  private readonly reports = new CompletionReports((req) => this.completeLocalBranches(req))
  /** Only on the Session stream: each unary call may reach another TM behind a balancer. */
  private readonly namer: TransactionNamer | undefined

  /** What this channel receives in one message (grpc.max_receive_message_length; -1: no limit). */
  private readonly maxReceiveBytes: number

  /** The address (or `dns:` target) this channel connects to. */
  get address(): string {
    return this.options.address
  }

  constructor(private readonly options: ResolvedClientOptions) {
    this.maxReceiveBytes = numberOption(options.channelOptions['grpc.max_receive_message_length']) ?? GRPC_DEFAULT_MAX_RECEIVE_BYTES
    const { proto } = loadArbiterProto()
    this.raw = new proto.arbiter.v1.TransactionManager(options.address, credentialsOf(options), options.channelOptions)
    if (options.transport === 'session') {
      const namer = (this.namer = new TransactionNamer())
      const limits = {
        maxReceiveBytes: this.maxReceiveBytes,
        maxSendBytes: numberOption(options.channelOptions['grpc.max_send_message_length']),
      }
      this.session = new SessionTransport(this.raw, () => this.metadata(), () => namer.forget(), limits)
    }
  }

  /** A transaction named here, whose Begin rides on its first request; undefined when Begin must be called. */
  nameTransaction(timeoutMs: number | undefined, labels: Record<string, string>): NamedTransaction | undefined {
    return this.namer?.name(timeoutMs, labels)
  }

  async begin(req: BeginRequest, o?: RpcCallOptions): Promise<BeginResponse__Output> {
    const sentAt = Date.now()
    const response = await this.call<BeginRequest, BeginResponse__Output>('begin', (r, m, c, cb) => this.raw.Begin(r, m, c, cb), req, o)
    this.namer?.learn(response, sentAt, Date.now())
    return response
  }
  execute(req: ExecuteRequest, o?: RpcCallOptions): Promise<ExecuteResponse__Output> {
    const call = this.call<ExecuteRequest, ExecuteResponse__Output>('execute', (r, m, c, cb) => this.raw.Execute(r, m, c, cb), req, o)
    return req.begin ? this.unlessBeginRefused(call) : call
  }
  executeBatch(req: ExecuteBatchRequest, o?: RpcCallOptions): Promise<ExecuteBatchResponse__Output> {
    const call = this.call<ExecuteBatchRequest, ExecuteBatchResponse__Output>('executeBatch', (r, m, c, cb) => this.raw.ExecuteBatch(r, m, c, cb), req, o)
    return req.begin ? this.unlessBeginRefused(call) : call
  }
  commit(req: CommitRequest, o?: RpcCallOptions): Promise<CommitResponse__Output> {
    // Pending completion reports ride along (lost with the request if it never arrives: the TM then finishes those branches itself).
    const completedLocal = this.reports.take()
    const sent = completedLocal.length > 0 ? { ...req, completedLocal } : req
    let call = this.call<CommitRequest, CommitResponse__Output>('commit', (r, m, c, cb) => this.raw.Commit(r, m, c, cb), sent, o)
    if (completedLocal.length > 0) {
      call = call.catch((error: unknown) => {
        this.reports.putBack(completedLocal)
        throw error
      })
    }
    return req.begin ? this.unlessBeginRefused(call) : call
  }
  completeLocalBranches(req: CompleteLocalBranchesRequest, o?: RpcCallOptions): Promise<CompleteLocalBranchesResponse__Output> {
    return this.call<CompleteLocalBranchesRequest, CompleteLocalBranchesResponse__Output>(
      'completeLocalBranches',
      (r, m, c, cb) => this.raw.CompleteLocalBranches(r, m, c, cb),
      req,
      o,
    )
  }
  /** Tells the TM, soon and together with others, that the application committed these local branches. */
  reportCommittedLocal(gtrid: string, committedBquals: Buffer[]): void {
    this.reports.add(gtrid, committedBquals)
  }
  rollback(req: RollbackRequest, o?: RpcCallOptions): Promise<RollbackResponse__Output> {
    return this.call<RollbackRequest, RollbackResponse__Output>('rollback', (r, m, c, cb) => this.raw.Rollback(r, m, c, cb), req, o)
  }
  getTransaction(req: GetTransactionRequest, o?: RpcCallOptions): Promise<Transaction__Output> {
    return this.call<GetTransactionRequest, Transaction__Output>('getTransaction', (r, m, c, cb) => this.raw.GetTransaction(r, m, c, cb), req, o)
  }
  run(req: RunRequest, o?: RpcCallOptions): Promise<RunResponse__Output> {
    const call = this.call<RunRequest, RunResponse__Output>('run', (r, m, c, cb) => this.raw.Run(r, m, c, cb), req, o)
    return req.tmInstance ? this.unlessBeginRefused(call) : call
  }

  /** The cluster's members (always its own unary call: it is about the node, not a transaction). */
  listMembers(deadlineMs: number): Promise<ListMembersResponse__Output> {
    return new Promise((resolve, reject) => {
      this.raw.ListMembers({}, this.metadata(), { deadline: Date.now() + deadlineMs }, (error, response) => {
        if (error) reject(fromGrpcError(error))
        else resolve(response!)
      })
    })
  }

  /** False while the connection to this node is failing (grpc-js's TRANSIENT_FAILURE): new transactions go elsewhere. */
  get reachable(): boolean {
    return this.raw.getChannel().getConnectivityState(false) !== grpc.connectivityState.TRANSIENT_FAILURE
  }

  /**
   * Calls `listener` each time this channel's connection, once READY, drops
   * (an unanswered keepalive ping, a reset, the TM going away). Not when it
   * is closed here.
   */
  onConnectionLost(listener: () => void): void {
    const channel = this.raw.getChannel()
    const watch = (from: grpc.connectivityState): void => {
      try {
        // No deadline: no timer, nothing that keeps the process alive.
        channel.watchConnectivityState(from, Infinity, () => {
          const state = channel.getConnectivityState(false)
          if (state === grpc.connectivityState.SHUTDOWN) return
          if (from === grpc.connectivityState.READY && state !== grpc.connectivityState.READY) listener()
          watch(state)
        })
      } catch {
        // closed
      }
    }
    watch(channel.getConnectivityState(false))
  }

  close(): void {
    this.reports.flush()
    this.session?.close()
    this.raw.close()
  }

  /** A TM that refused to begin a transaction named here (restarted, another node, clock): call Begin next time. */
  private async unlessBeginRefused<T>(call: Promise<T>): Promise<T> {
    try {
      return await call
    } catch (error) {
      if (error instanceof ArbiterError && error.metadata.beginRefused === 'true') this.namer?.forget()
      throw error
    }
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata()
    if (this.options.token !== undefined) metadata.set('authorization', `Bearer ${this.options.token}`)
    // So that the TM refuses (and rolls back) an answer this client could not receive, instead of committing and sending it.
    metadata.set(CLIENT_MAX_RECEIVE_BYTES_HEADER, String(this.maxReceiveBytes))
    return metadata
  }

  private call<Req, Res>(kind: SessionKind, method: Unary<Req, Res>, request: Req, o: RpcCallOptions = {}): Promise<Res> {
    const deadlineMs = o.deadlineMs ?? this.options.defaultDeadlineMs
    const traced = activeTraceHeaders()
    if (this.session) return this.session.request(kind, request as object, { signal: o.signal, deadlineMs, trace: traced }) as Promise<Res>
    const signal = o.signal
    if (signal?.aborted) return Promise.reject(signal.reason as Error)
    const metadata = this.metadata()
    if (traced) {
      metadata.set('traceparent', traced.traceparent)
      if (traced.tracestate) metadata.set('tracestate', traced.tracestate)
    }
    const deadline = Date.now() + deadlineMs
    return new Promise<Res>((resolve, reject) => {
      let onAbort: (() => void) | undefined
      const call = method(request, metadata, { deadline }, (error, response) => {
        if (onAbort) signal?.removeEventListener('abort', onAbort)
        if (signal?.aborted) reject(signal.reason as Error)
        else if (error) reject(fromGrpcError(error))
        else resolve(response as Res)
      })
      if (signal) {
        onAbort = () => call.cancel()
        signal.addEventListener('abort', onAbort, { once: true })
      }
    })
  }
}

function numberOption(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined
}
