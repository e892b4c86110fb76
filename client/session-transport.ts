// The client's side of the session stream (transaction_manager.proto): the
// TransactionManager calls multiplexed on one long-lived bidirectional
// stream, each request with an id, each answer matched back by it. Deadlines
// and cancellation are kept here, per request, because the stream has none.
// A stream that breaks fails every request in flight on it with the status
// it broke with (UNAVAILABLE when the TM went away), exactly as those unary
// calls would have failed; the next request opens a new stream.
//
// The stream is BatchedSession: the requests made in one turn of the event
// loop leave as one message. Nothing is sent on it before the TM's header
// says it speaks BatchedSession (one round trip, once per stream); a TM that
// answers UNIMPLEMENTED gets the waiting requests on the plain Session
// stream, and so does every later request until that stream ends. A request
// settled (expired, aborted) before it was written is never sent.
import type { TraceHeaders } from './tracing.js'
import * as grpc from '@grpc/grpc-js'
import type { TransactionManagerClient } from '../proto/gen/arbiter/v1/TransactionManager.js'
import type { SessionRequest } from '../proto/gen/arbiter/v1/SessionRequest.js'
import type { SessionRequestBatch } from '../proto/gen/arbiter/v1/SessionRequestBatch.js'
import type { SessionResponse__Output } from '../proto/gen/arbiter/v1/SessionResponse.js'
import type { SessionResponseBatch__Output } from '../proto/gen/arbiter/v1/SessionResponseBatch.js'
import {
  BATCHED_SESSION_HEADER,
  batchBound,
  encodedSizeBound,
  MessageBatcher,
  TM_MAX_MESSAGE_BYTES_HEADER,
} from '../proto/message-batcher.js'
import { ArbiterError, InvalidArgumentError, UnavailableError, fromGrpcError, fromWireStatus } from './errors.js'

/** The name of a request in SessionRequest's oneof. */
export type SessionKind = NonNullable<SessionRequest['request']>

interface Pending {
  readonly kind: SessionKind
  /** What was sent: sent again on a new stream when a closing TM session refused it unrun. */
  readonly request: SessionRequest
  /** Already sent again once. */
  resent: boolean
  stream: OpenStream
  /** Its stream's `heard` count when it was written; undefined while it waits (for the TM's header, or the batch). */
  heardAtSend: number | undefined
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
  timer: NodeJS.Timeout | undefined
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

type StreamCall =
  | { readonly batched: false; readonly call: grpc.ClientDuplexStream<SessionRequest, SessionResponse__Output> }
  | { readonly batched: true; readonly call: grpc.ClientDuplexStream<SessionRequestBatch, SessionResponseBatch__Output> }

type OpenStream = StreamCall & {
  /** How many answer messages (and headers) it delivered: a stream that answers nothing may be half-open. */
  heard: number
  inFlight: number
  /** No new requests go here; it is cancelled once its last request is settled. */
  retired: boolean
  /** Batched: requests waiting for the TM's header. */
  waiting: SessionRequest[]
  /** Batched: set once the TM's header came; requests go through it from then on. */
  batcher: MessageBatcher<SessionRequest> | undefined
  /** Ended or cancelled: nothing more is written. */
  done: boolean
  /** Batched: the client closed while requests waited for the header; end once they are written. */
  endWhenSent: boolean
  /** Batched: the largest message the TM receives, from its header (limits.maxMessageBytes there). */
  tmLimit?: number
}

/** The gRPC message-size options of the client's channel that batching must respect. */
export interface MessageLimits {
  /** grpc.max_receive_message_length (undefined: grpc-js's default; -1: none). */
  readonly maxReceiveBytes?: number | undefined
  /** grpc.max_send_message_length (undefined or -1: none). */
  readonly maxSendBytes?: number | undefined
}

export interface SessionCallOptions {
  readonly signal?: AbortSignal | undefined
  readonly deadlineMs: number
  /** The caller's trace context (tracing.ts), carried in the request's envelope. */
  readonly trace?: TraceHeaders | undefined
}

function deadlineError(kind: SessionKind, ms: number): ArbiterError {
  return fromGrpcError({ code: grpc.status.DEADLINE_EXCEEDED, details: `no answer to ${kind} within its ${ms} ms deadline`, metadata: new grpc.Metadata() })
}

/** A request that never left: it cannot have run, and may be sent again. */
function notSentError(kind: SessionKind, ms: number, streamOpen: boolean): ArbiterError {
  const why = streamOpen ? 'it was still queued' : 'the TM did not open the session stream'
  return new UnavailableError(`${kind} was not sent: ${why} within the request's ${ms} ms deadline`, { metadata: { notSent: 'true' } })
}

/**
 * A request larger than the TM receives: never sent (found by hostile testing: the TM refused the whole stream's
 * message, read as ResourceExhaustedError, retryable, or as an unknown outcome for a Run that never ran).
 */
function tooLargeError(kind: SessionKind, bytes: number, limit: number): ArbiterError {
  return new InvalidArgumentError(
    `${kind} was not sent: it is ${bytes} bytes, over the ${limit} bytes the TM receives in one message (limits.maxMessageBytes on the TM): ` +
      'send less at once (fewer or smaller values per request), or raise that limit',
    { metadata: { notSent: 'true' } },
  )
}

/** A request that never left because its stream failed first (the TM unreachable): it cannot have run. */
function notSentBecause(kind: SessionKind, error: ArbiterError): ArbiterError {
  return new UnavailableError(`${kind} was not sent: ${error.message}`, { metadata: { ...error.metadata, notSent: 'true' }, cause: error })
}

/** @internal One client's Session stream (re-opened as needed). */
export class SessionTransport {
  private current: OpenStream | undefined
  private readonly pending = new Map<number, Pending>()
  private nextId = 0
  private closed = false
  /** The TM answered BatchedSession with UNIMPLEMENTED (an older TM): the next stream is a Session. */
  private batchingUnsupported = false

  constructor(
    private readonly raw: TransactionManagerClient,
    private readonly metadata: () => grpc.Metadata,
    /** Called when a new stream opens: it may reach another TM than the last one. */
    private readonly onNewStream: () => void = () => undefined,
    private readonly limits: MessageLimits = {},
  ) {}

  request(kind: SessionKind, body: object, o: SessionCallOptions): Promise<unknown> {
    const signal = o.signal
    if (signal?.aborted) return Promise.reject(signal.reason as Error)
    // Nothing left this process (found by hostile testing: a close() during a commit's prepare read as an unknown outcome).
    if (this.closed) return Promise.reject(new ArbiterError('TM_INTERNAL', `${kind} was not sent: the client is closed`, { grpcCode: grpc.status.CANCELLED, metadata: { notSent: 'true' } }))
    const stream = this.stream()
    let id = (this.nextId = (this.nextId + 1) >>> 0)
    while (this.pending.has(id)) id = (this.nextId = (this.nextId + 1) >>> 0)
    return new Promise<unknown>((resolve, reject) => {
      const request: SessionRequest = o.trace ? { id, [kind]: body, ...o.trace } : { id, [kind]: body }
      const entry: Pending = { kind, request, resent: false, stream, heardAtSend: undefined, resolve, reject, timer: undefined, signal, onAbort: undefined }
      entry.timer = setTimeout(() => this.expire(id, o.deadlineMs), o.deadlineMs)
      if (signal) {
        entry.onAbort = () => this.settle(id, () => reject(signal.reason as Error))
        signal.addEventListener('abort', entry.onAbort, { once: true })
      }
      this.pending.set(id, entry)
      stream.inFlight++
      this.send(stream, request)
    })
  }

  /** Half-closes the stream: the server answers what is in flight, then ends it. */
  close(): void {
    this.closed = true
    const stream = this.current
    this.current = undefined
    if (!stream) return
    if (stream.batched && !stream.batcher && stream.waiting.some((r) => this.pendingOn(r, stream))) {
      // Requests made just before close() still wait for the TM's header: they go out first.
      stream.endWhenSent = true
      return
    }
    this.end(stream)
  }

  private end(stream: OpenStream): void {
    stream.batcher?.flush()
    stream.done = true
    stream.call.end()
  }

  private send(stream: OpenStream, request: SessionRequest): void {
    if (!stream.batched) this.write(stream, [request])
    else if (stream.batcher) stream.batcher.add(request)
    else stream.waiting.push(request)
  }

  /** Writes the requests still pending on this stream (settled ones are not sent at all). */
  private write(stream: OpenStream, requests: SessionRequest[]): void {
    if (stream.done) return
    const live = requests.filter((r) => {
      const entry = this.pendingOn(r, stream)
      if (entry === undefined) return false
      const tooLarge = this.overTmLimit(stream, r)
      if (tooLarge !== undefined) {
        this.settle(Number(r.id), () => entry.reject(tooLargeError(entry.kind, tooLarge, stream.tmLimit!)))
        return false
      }
      entry.heardAtSend = stream.heard
      return true
    })
    if (live.length === 0) return
    if (stream.batched) stream.call.write({ requests: live })
    else for (const request of live) stream.call.write(request)
  }

  /**
   * The request's size in a message of its own when that is over the TM's limit, else undefined. Encoded only
   * when a cheap upper bound says it might be: almost every request is far below.
   */
  private overTmLimit(stream: OpenStream, request: SessionRequest): number | undefined {
    const limit = stream.tmLimit
    if (!stream.batched || limit === undefined || !(limit > 0) || encodedSizeBound(request) <= limit) return undefined
    const serialize = (this.raw.BatchedSession as unknown as { requestSerialize?: (value: object) => Buffer }).requestSerialize
    const bytes = serialize === undefined ? encodedSizeBound(request) : serialize({ requests: [request] }).length
    return bytes > limit ? bytes : undefined
  }

  /** The TM's header came: what waited goes out, and later requests are batched within both ends' message limits. */
  private ready(stream: OpenStream & { batched: true }, header: grpc.Metadata): void {
    const tmLimit = Number(header.get(TM_MAX_MESSAGE_BYTES_HEADER)[0])
    if (Number.isFinite(tmLimit) && tmLimit > 0) stream.tmLimit = tmLimit
    const batcher = (stream.batcher = new MessageBatcher((batch) => this.write(stream, batch), batchBound(tmLimit, this.limits.maxSendBytes)))
    stream.heard++
    for (const request of stream.waiting.splice(0)) batcher.add(request)
    if (stream.endWhenSent) this.end(stream)
  }

  private stream(): OpenStream {
    if (this.current && !this.current.retired) return this.current
    this.onNewStream()
    const common = { heard: 0, inFlight: 0, retired: false, waiting: [], batcher: undefined, done: false, endWhenSent: false }
    let stream: OpenStream
    if (this.batchingUnsupported) {
      const call = this.raw.Session(this.metadata())
      stream = { batched: false, call, ...common }
      call.on('data', (response: SessionResponse__Output) => {
        stream.heard++
        this.answer(response)
      })
    } else {
      // The metadata says what this client receives (arbiter-max-receive-bytes): the TM's answer batches fit it.
      const call = this.raw.BatchedSession(this.metadata())
      const batched: OpenStream & { batched: true } = { batched: true, call, ...common }
      stream = batched
      call.on('metadata', (header: grpc.Metadata) => {
        if (header.get(BATCHED_SESSION_HEADER)[0] === 'batched') this.ready(batched, header)
      })
      call.on('data', (batch: SessionResponseBatch__Output) => {
        batched.heard++
        for (const response of batch.responses) this.answer(response)
      })
    }
    // 'error' carries a non-OK status (without a listener grpc-js would throw
    // it); 'status' comes for every end, at once, where 'end' comes a tick later.
    stream.call.on('error', (error: unknown) => this.ended(stream, error))
    // The TM ends a session (status OK) only once it has answered every
    // request it took: one still unanswered then was never run (notSent).
    stream.call.on('status', (status: grpc.StatusObject) =>
      this.ended(
        stream,
        status.code === grpc.status.OK
          ? new UnavailableError('the TM ended the session before this request reached it (it answers every request it takes before it ends one)', {
              metadata: { notSent: 'true' },
            })
          : status,
      ),
    )
    this.current = stream
    return stream
  }

  private ended(stream: OpenStream, status: unknown): void {
    const code = (status as { code?: unknown }).code
    if (stream.batched && !stream.batcher && code === grpc.status.UNIMPLEMENTED) {
      this.fallBack(stream)
      return
    }
    stream.done = true
    if (code === grpc.status.UNIMPLEMENTED) {
      // Neither Session nor BatchedSession: not an Arbiter TM at all (a wrong address, a proxy that does not forward
      // the service). Nothing ran there; UnavailableError lets a cluster client skip it and begin elsewhere (found by
      // hostile testing: every transaction sent there failed as TM_INTERNAL, naming no address).
      const target = this.raw.getChannel().getTarget()
      this.broken(stream, new UnavailableError(`${target} does not serve arbiter.v1.TransactionManager (not an Arbiter TM, or a proxy that does not pass it on): check the client's addresses; nothing ran there`, { cause: status, metadata: { notSent: 'true' } }))
      return
    }
    this.broken(stream, fromGrpcError(status))
  }

  /** An older TM without BatchedSession: nothing was sent on the stream, so its requests go on a Session stream. */
  private fallBack(stream: OpenStream): void {
    if (stream.done) return
    stream.done = true
    this.batchingUnsupported = true
    this.retire(stream)
    const waiting = stream.waiting.splice(0).flatMap((r) => {
      const entry = this.pendingOn(r, stream)
      return entry ? [{ request: r, entry }] : []
    })
    if (waiting.length === 0) return
    // Opened even after close(): these requests were made before it.
    const next = this.stream()
    for (const { request, entry } of waiting) {
      entry.stream = next
      next.inFlight++
      this.send(next, request)
    }
    if (this.closed) {
      this.current = undefined
      this.end(next)
    }
  }

  /** The request's entry, while it is still pending on this stream (not settled, not moved). */
  private pendingOn(request: SessionRequest, stream: OpenStream): Pending | undefined {
    const entry = this.pending.get(request.id ?? 0)
    return entry?.stream === stream ? entry : undefined
  }

  private answer(response: SessionResponse__Output): void {
    const entry = this.pending.get(response.id)
    if (!entry) return // expired or cancelled meanwhile
    const kind = response.response
    const error = kind === 'error' && response.error ? fromWireStatus(response.error) : undefined
    // The TM is closing this stream: what comes next goes on a new one (else it is refused here too).
    if (error?.metadata.sessionClosing === 'true') {
      this.retire(entry.stream)
      // Refused before it ran: it goes again, once, on a new stream. Not a Commit: refused unrun, it tells
      // the caller that the transaction did not commit (commit.ts), which a second try could blur.
      if (!this.closed && !entry.resent && entry.kind !== 'commit') return this.resend(entry)
    }
    this.settle(response.id, () => {
      if (error) entry.reject(error)
      else if (kind === entry.kind) entry.resolve(response[kind])
      else entry.reject(new ArbiterError('TM_INTERNAL', `the TM answered ${entry.kind} with ${kind ?? 'nothing'}`))
    })
  }

  private resend(entry: Pending): void {
    const next = this.stream()
    this.leave(entry.stream)
    entry.stream = next
    entry.resent = true
    entry.heardAtSend = undefined
    next.inFlight++
    this.send(next, entry.request)
  }

  private expire(id: number, ms: number): void {
    const entry = this.pending.get(id)
    if (!entry) return
    // Never written: known not to have run.
    if (entry.heardAtSend === undefined) {
      const open = entry.stream.batcher !== undefined || !entry.stream.batched
      // The stream did not open in time (no header from the TM): new requests get a new one.
      if (!open) this.retire(entry.stream)
      this.settle(id, () => entry.reject(notSentError(entry.kind, ms, open)))
      return
    }
    // Nothing came back on the stream since this request went out: it may be
    // half-open (a TM host gone without a reset). New requests get a new one.
    if (entry.stream.heard === entry.heardAtSend) this.retire(entry.stream)
    this.settle(id, () => entry.reject(deadlineError(entry.kind, ms)))
  }

  private broken(stream: OpenStream, error: ArbiterError): void {
    this.retire(stream)
    for (const [id, entry] of this.pending) {
      if (entry.stream !== stream) continue
      // Still waiting for the TM's header (or its batch): never written, so it
      // cannot have run. (A refusal such as UNAUTHENTICATED keeps its own type.)
      const unsent = entry.heardAtSend === undefined && stream.batched && error.code === 'TM_RM_UNAVAILABLE'
      this.settle(id, () => entry.reject(unsent ? notSentBecause(entry.kind, error) : error))
    }
  }

  private retire(stream: OpenStream): void {
    stream.retired = true
    if (this.current === stream) this.current = undefined
    // The TM behind the next stream may be a newer one (a rolling upgrade): try BatchedSession again.
    if (!stream.batched) this.batchingUnsupported = false
  }

  private settle(id: number, finish: () => void): void {
    const entry = this.pending.get(id)
    if (!entry) return
    this.pending.delete(id)
    clearTimeout(entry.timer)
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort)
    this.leave(entry.stream)
    finish()
  }

  /** A request is no longer pending on `stream`. */
  private leave(stream: OpenStream): void {
    stream.inFlight--
    // Retired, or closed while its requests waited for the header: nothing is left to send or hear.
    if ((stream.retired || stream.endWhenSent) && stream.inFlight === 0 && !stream.done) {
      stream.done = true
      stream.batcher?.drop()
      stream.call.cancel()
    }
  }
}
