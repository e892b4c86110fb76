// arbiter.v1.TransactionManager/Session and /BatchedSession: the unary calls
// multiplexed on one long-lived bidirectional stream (see the .proto for why).
// Each request runs as its unary twin would, concurrently with the others;
// its answer or its error status goes back with the request's id. A bad
// request fails alone; the stream stays open. On BatchedSession the requests
// arrive in batches and the answers ready in one turn of the event loop leave
// as one message. At shutdown every session is ended once the requests it
// has in flight are answered (tryShutdown would otherwise wait for streams
// that never end on their own).
import { inRequestSpan } from '../tracing/spans.js'
import type { EventEmitter } from 'node:events'
import { Metadata, status as Status, type handleBidiStreamingCall, type ServerDuplexStream } from '@grpc/grpc-js'
import { TmError } from '../../proto/errors.js'
import type { SessionRequest__Output } from '../../proto/gen/arbiter/v1/SessionRequest.js'
import type { SessionRequestBatch__Output } from '../../proto/gen/arbiter/v1/SessionRequestBatch.js'
import type { SessionResponse } from '../../proto/gen/arbiter/v1/SessionResponse.js'
import type { SessionResponseBatch } from '../../proto/gen/arbiter/v1/SessionResponseBatch.js'
import type { Logger } from '../logger.js'
import type { SessionRequestObserver } from '../metrics/session-request-metrics.js'
import {
  BATCHED_SESSION_HEADER,
  batchBound,
  CLIENT_MAX_RECEIVE_BYTES_HEADER,
  MessageBatcher,
  TM_MAX_MESSAGE_BYTES_HEADER,
} from '../../proto/message-batcher.js'
import { principalOf } from './auth-interceptor.js'
import { toStatus } from './status.js'
import { backpressured } from './backpressure.js'
import { announcedReceive } from './serve-operations.js'
import type { TransactionManagerOperations } from './transaction-manager-service.js'
import type { SessionTie } from '../coordinator/transaction.js'

type Kind = NonNullable<SessionRequest__Output['request']>

/** The unary method each request kind stands for (span names, as a unary call's). */
const METHOD_OF: Record<Kind, string> = {
  begin: 'Begin',
  execute: 'Execute',
  executeBatch: 'ExecuteBatch',
  enlist: 'Enlist',
  commit: 'Commit',
  completeLocalBranches: 'CompleteLocalBranches',
  rollback: 'Rollback',
  getTransaction: 'GetTransaction',
  run: 'Run',
}

const KINDS: readonly Kind[] = ['begin', 'execute', 'executeBatch', 'enlist', 'commit', 'completeLocalBranches', 'rollback', 'getTransaction', 'run']

/** Where a session's answers go: one per message, or batched. */
interface Outbox {
  send(response: SessionResponse): void
  /** No more answers: ends the stream after what is queued, or (endStream false) drops the queue. */
  close(endStream: boolean): void
}

function singleOutbox(call: ServerDuplexStream<SessionRequest__Output, SessionResponse>): Outbox {
  const write = backpressured(call)
  return {
    send: (response) => write(response),
    close: (endStream) => {
      if (endStream) call.end()
    },
  }
}

/** Answers ready in one turn of the event loop leave as one message (proto/message-batcher.ts). */
function batchingOutbox(call: ServerDuplexStream<SessionRequestBatch__Output, SessionResponseBatch>, maxBatchBytes: number): Outbox {
  const write = backpressured(call)
  const batcher = new MessageBatcher<SessionResponse>((responses) => write({ responses }), maxBatchBytes)
  return {
    send: (response) => batcher.add(response),
    close: (endStream) => {
      if (!endStream) return batcher.drop()
      batcher.flush()
      call.end()
    },
  }
}

/** The transaction a request is about, for the kinds that bind it to the session. */
function gtridOf(request: SessionRequest__Output, kind: Kind, response?: unknown): string | undefined {
  switch (kind) {
    case 'begin':
      return (response as { gtrid?: string } | undefined)?.gtrid
    case 'execute':
    case 'executeBatch':
    case 'enlist':
    case 'commit':
    case 'rollback':
      return (request[kind] as { gtrid?: string } | null | undefined)?.gtrid || undefined
    default:
      return undefined
  }
}

/** One open Session stream. */
class Session {
  private inFlight = 0
  private closing = false
  private ended = false
  /** The TM began closing it (shutdown), rather than the client going away. */
  private closedByTm = false
  /** Its identity binds transactions to it; its peer is the client's connection. */
  readonly tie: SessionTie

  constructor(
    call: EventEmitter,
    private readonly outbox: Outbox,
    private readonly ops: TransactionManagerOperations,
    private readonly maxInFlight: number,
    private readonly logger: Logger,
    private readonly onEnd: () => void,
    private readonly observe: SessionRequestObserver | undefined,
    /** Who opened the stream (the token's name; undefined with auth off): every request on it is theirs. */
    private readonly caller: string | undefined,
    peer: string,
    private readonly bind: ((gtrid: string, tie: SessionTie, caller: string | undefined) => void) | undefined,
    /** What the client announced it receives in one message (header arbiter-max-receive-bytes). */
    private readonly clientMaxReceive: number | undefined,
  ) {
    this.tie = { peer }
    // The client half-closed: answer what is in flight, then end.
    call.on('end', () => this.close())
    // Cancelled or broken: answers in flight have nowhere to go.
    call.on('error', () => this.finish())
    call.on('cancelled', () => this.finish())
  }

  /** True once it ended because the client went away or half-closed (not the TM's shutdown). */
  get lostByClient(): boolean {
    return this.ended && !this.closedByTm
  }

  /** Ends the stream once every request in flight is answered; later requests are refused. */
  close(byTm = false): void {
    this.closedByTm ||= byTm
    this.closing = true
    if (this.inFlight === 0) this.finish(true)
  }

  receive(request: SessionRequest__Output): void {
    const id = request.id
    const kind = request.request
    if (this.closing) {
      // The flag tells the client to stop sending on this stream (its next requests open a new one).
      this.refuse(id, kind, new TmError('TM_RM_UNAVAILABLE', 'the TM is shutting down this session: retry on a new one', { metadata: { sessionClosing: 'true' } }))
      return
    }
    if (kind === undefined || !KINDS.includes(kind)) {
      this.refuse(id, kind, new TmError('TM_INVALID_ARGUMENT', `a SessionRequest needs exactly one of: ${KINDS.join(', ')}`))
      return
    }
    if (this.inFlight >= this.maxInFlight) {
      this.refuse(id, kind, new TmError('TM_OVERLOADED', `more than ${this.maxInFlight} requests in flight on one session (limits.maxSessionRequestsInFlight)`))
      return
    }
    this.inFlight++
    const started = performance.now()
    const before = this.bind && gtridOf(request, kind)
    if (before) this.bind(before, this.tie, this.caller)
    // The same request object shapes as the unary calls, so the same operation serves both.
    const ops = this.ops as unknown as Record<Kind, (req: unknown, caller: string | undefined, clientMaxReceive: number | undefined) => unknown>
    Promise.resolve()
      .then(() => inRequestSpan(METHOD_OF[kind], request, () => ops[kind](request[kind], this.caller, this.clientMaxReceive)))
      .then(
        (response) => {
          // A transaction this request began (Begin, or riding on it) is bound once it exists.
          const after = this.bind && (before ?? gtridOf(request, kind, response))
          if (after) this.bind(after, this.tie, this.caller)
          this.send({ id, [kind]: response })
          this.observe?.(kind, Status.OK, (performance.now() - started) / 1000)
        },
        (error: unknown) => {
          this.logger.debug({ method: `Session/${kind}`, err: error instanceof Error ? error.message : String(error) }, 'request failed')
          const code = this.fail(id, error)
          this.observe?.(kind, code, (performance.now() - started) / 1000)
        },
      )
      .finally(() => {
        this.inFlight--
        if (this.closing && this.inFlight === 0) this.finish(true)
      })
  }

  /** Answers a request refused before it ran (counted with no duration). */
  private refuse(id: number, kind: string | undefined, error: TmError): void {
    // Answered first: inside `observe?.(…)` the answer would not be sent at all when no observer is set.
    const code = this.fail(id, error)
    this.observe?.(kind ?? 'unknown', code, 0)
  }

  /** Answers the request with the error's status; returns its code. */
  private fail(id: number, error: unknown): number {
    const status = toStatus(error, this.logger)
    this.send({ id, error: status })
    return status.code
  }

  private send(response: SessionResponse): void {
    if (!this.ended) this.outbox.send(response)
  }

  private finish(endStream = false): void {
    if (this.ended) return
    this.ended = true
    this.outbox.close(endStream)
    this.onEnd()
  }
}

/** The open sessions, so that shutdown can end them. */
export class SessionRegistry {
  private readonly open = new Set<Session>()

  /** Told when a client's last session on its connection ended without the TM ending it. */
  constructor(private readonly onLost?: (tie: SessionTie) => void) {}

  add(session: Session): void {
    this.open.add(session)
  }

  remove(session: Session): void {
    this.open.delete(session)
    if (!session.lostByClient || this.onLost === undefined) return
    // Another stream on the same connection: the client lives (it only moved streams); its requests rebind.
    for (const other of this.open) if (other.tie.peer === session.tie.peer) return
    this.onLost(session.tie)
  }

  /**
   * Ends every session after its requests in flight (no new ones are taken);
   * resolves when all have ended, or after `waitMs`.
   */
  async closeAll(waitMs = 0): Promise<void> {
    for (const session of [...this.open]) session.close(true)
    const until = Date.now() + waitMs
    while (this.open.size > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** What both stream handlers share. */
export interface SessionContext {
  readonly ops: TransactionManagerOperations
  readonly registry: SessionRegistry
  readonly logger: Logger
  readonly maxInFlight: number
  /** limits.maxMessageBytes: what the TM receives and sends at most in one message. */
  readonly maxMessageBytes: number
  readonly observe?: SessionRequestObserver | undefined
  /** A request for a transaction came on this session (Coordinator.bindSession). */
  readonly bind?: ((gtrid: string, tie: SessionTie, caller: string | undefined) => void) | undefined
}

function openSession(ctx: SessionContext, call: EventEmitter & { readonly metadata: Metadata }, outbox: Outbox): Session {
  const caller = principalOf(call)?.name
  const peer = (call as { getPeer?: () => string }).getPeer?.() ?? 'unknown'
  const announced = announcedReceive(call.metadata)
  const session: Session = new Session(call, outbox, ctx.ops, ctx.maxInFlight, ctx.logger, () => ctx.registry.remove(session), ctx.observe, caller, peer, ctx.bind, announced)
  ctx.registry.add(session)
  return session
}

export function sessionHandler(ctx: SessionContext): handleBidiStreamingCall<SessionRequest__Output, SessionResponse> {
  return (call) => {
    const session = openSession(ctx, call, singleOutbox(call))
    call.on('data', (request: SessionRequest__Output) => session.receive(request))
  }
}

export function batchedSessionHandler(ctx: SessionContext): handleBidiStreamingCall<SessionRequestBatch__Output, SessionResponseBatch> {
  return (call) => {
    const header = new Metadata()
    header.set(BATCHED_SESSION_HEADER, 'batched')
    header.set(TM_MAX_MESSAGE_BYTES_HEADER, String(ctx.maxMessageBytes))
    call.sendMetadata(header)
    // Answer batches fit what the client says it receives (grpc-js's default when it says nothing) and what the TM sends.
    const [announced] = call.metadata.get(CLIENT_MAX_RECEIVE_BYTES_HEADER)
    const clientLimit = typeof announced === 'string' ? Number(announced) : undefined
    const session = openSession(ctx, call, batchingOutbox(call, batchBound(clientLimit, ctx.maxMessageBytes)))
    call.on('data', (batch: SessionRequestBatch__Output) => {
      for (const request of batch.requests) session.receive(request)
    })
  }
}
