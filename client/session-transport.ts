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
// says it speaks BatchedSession; a TM that answers UNIMPLEMENTED gets the
// waiting requests, and every later one, on the plain Session stream.
import * as grpc from '@grpc/grpc-js'
import type { TransactionManagerClient } from '../proto/gen/arbiter/v1/TransactionManager.js'
import type { SessionRequest } from '../proto/gen/arbiter/v1/SessionRequest.js'
import type { SessionRequestBatch } from '../proto/gen/arbiter/v1/SessionRequestBatch.js'
import type { SessionResponse__Output } from '../proto/gen/arbiter/v1/SessionResponse.js'
import type { SessionResponseBatch__Output } from '../proto/gen/arbiter/v1/SessionResponseBatch.js'
import { MessageBatcher } from '../proto/message-batcher.js'
import { ArbiterError, fromGrpcError, fromWireStatus } from './errors.js'

/** The name of a request in SessionRequest's oneof. */
export type SessionKind = NonNullable<SessionRequest['request']>

/** The response headers of a TM that speaks BatchedSession (server/grpc/session-stream.ts). */
const BATCHED_SESSION_HEADER = 'arbiter-session'
const MAX_MESSAGE_BYTES_HEADER = 'arbiter-max-message-bytes'
/** The most a batch of requests holds (by encodedSizeBound) when the TM's own limit allows more. */
const MAX_BATCH_BYTES = 1024 * 1024

interface Pending {
  readonly kind: SessionKind
  stream: OpenStream
  readonly sentAt: number
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
  /** When it last delivered an answer or its header (a stream that answers nothing may be half-open). */
  lastAnswerAt: number
  inFlight: number
  /** No new requests go here; it is cancelled once its last request is settled. */
  retired: boolean
  /** Batched: requests waiting for the TM's header. */
  waiting: SessionRequest[]
  /** Batched: set once the TM's header came; requests go through it from then on. */
  batcher: MessageBatcher<SessionRequest> | undefined
  /** Ended or cancelled: nothing more is written. */
  done: boolean
}

export interface SessionCallOptions {
  readonly signal?: AbortSignal | undefined
  readonly deadlineMs: number
}

function deadlineError(kind: SessionKind, ms: number): ArbiterError {
  return fromGrpcError({ code: grpc.status.DEADLINE_EXCEEDED, details: `no answer to ${kind} within its ${ms} ms deadline`, metadata: new grpc.Metadata() })
}

/** @internal One client's Session stream (re-opened as needed). */
export class SessionTransport {
  private current: OpenStream | undefined
  private readonly pending = new Map<number, Pending>()
  private nextId = 0
  private closed = false
  /** The TM answered BatchedSession with UNIMPLEMENTED (an older TM): use Session. */
  private batchingUnsupported = false

  constructor(
    private readonly raw: TransactionManagerClient,
    private readonly metadata: () => grpc.Metadata,
    /** Called when a new stream opens: it may reach another TM than the last one. */
    private readonly onNewStream: () => void = () => undefined,
  ) {}

  request(kind: SessionKind, body: object, o: SessionCallOptions): Promise<unknown> {
    const signal = o.signal
    if (signal?.aborted) return Promise.reject(signal.reason as Error)
    if (this.closed) return Promise.reject(fromGrpcError({ code: grpc.status.CANCELLED, details: 'the client is closed' }))
    const stream = this.stream()
    let id = (this.nextId = (this.nextId + 1) >>> 0)
    while (this.pending.has(id)) id = (this.nextId = (this.nextId + 1) >>> 0)
    return new Promise<unknown>((resolve, reject) => {
      const entry: Pending = { kind, stream, sentAt: Date.now(), resolve, reject, timer: undefined, signal, onAbort: undefined }
      entry.timer = setTimeout(() => this.expire(id, o.deadlineMs), o.deadlineMs)
      if (signal) {
        entry.onAbort = () => this.settle(id, () => reject(signal.reason as Error))
        signal.addEventListener('abort', entry.onAbort, { once: true })
      }
      this.pending.set(id, entry)
      stream.inFlight++
      this.send(stream, { id, [kind]: body })
    })
  }

  /** Half-closes the stream: the server answers what is in flight, then ends it. */
  close(): void {
    this.closed = true
    const stream = this.current
    this.current = undefined
    if (!stream) return
    stream.batcher?.flush()
    stream.done = true
    stream.call.end()
  }

  private send(stream: OpenStream, request: SessionRequest): void {
    if (!stream.batched) stream.call.write(request)
    else if (stream.batcher) stream.batcher.add(request)
    else stream.waiting.push(request)
  }

  /** The TM's header came: what waited goes out, and later requests are batched up to the TM's message limit. */
  private ready(stream: OpenStream & { batched: true }, header: grpc.Metadata): void {
    const limit = Number(header.get(MAX_MESSAGE_BYTES_HEADER)[0])
    const maxBytes = Number.isFinite(limit) && limit > 0 ? Math.min(limit / 2, MAX_BATCH_BYTES) : MAX_BATCH_BYTES
    stream.batcher = new MessageBatcher((batch) => {
      // Requests settled meanwhile (expired, aborted) are not sent at all.
      const requests = batch.filter((r) => this.pending.get(r.id ?? 0)?.stream === stream)
      if (requests.length > 0 && !stream.done) stream.call.write({ requests })
    }, maxBytes)
    stream.lastAnswerAt = Date.now()
    for (const request of stream.waiting.splice(0)) stream.batcher.add(request)
  }

  private stream(): OpenStream {
    if (this.current && !this.current.retired) return this.current
    this.onNewStream()
    const common = { lastAnswerAt: Date.now(), inFlight: 0, retired: false, waiting: [], batcher: undefined, done: false }
    let stream: OpenStream
    if (this.batchingUnsupported) {
      const call = this.raw.Session(this.metadata())
      stream = { batched: false, call, ...common }
      call.on('data', (response: SessionResponse__Output) => {
        stream.lastAnswerAt = Date.now()
        this.answer(response)
      })
    } else {
      const call = this.raw.BatchedSession(this.metadata())
      const batched: OpenStream & { batched: true } = { batched: true, call, ...common }
      stream = batched
      call.on('metadata', (header: grpc.Metadata) => {
        if (header.get(BATCHED_SESSION_HEADER)[0] === 'batched') this.ready(batched, header)
      })
      call.on('data', (batch: SessionResponseBatch__Output) => {
        batched.lastAnswerAt = Date.now()
        for (const response of batch.responses) this.answer(response)
      })
    }
    // 'error' carries a non-OK status (without a listener grpc-js would throw
    // it); 'status' comes for every end, at once, where 'end' comes a tick later.
    stream.call.on('error', (error: unknown) => this.ended(stream, error))
    stream.call.on('status', (status: grpc.StatusObject) =>
      this.ended(
        stream,
        status.code === grpc.status.OK ? { code: grpc.status.UNAVAILABLE, details: 'the TM ended the session before answering' } : status,
      ),
    )
    this.current = stream
    return stream
  }

  private ended(stream: OpenStream, status: unknown): void {
    const code = (status as { code?: unknown }).code
    if (stream.batched && !stream.batcher && code === grpc.status.UNIMPLEMENTED && !this.closed) {
      this.fallBack(stream)
      return
    }
    stream.done = true
    this.broken(stream, fromGrpcError(status))
  }

  /** An older TM without BatchedSession: nothing was sent on the stream, so its requests go on a Session stream. */
  private fallBack(stream: OpenStream): void {
    if (stream.done) return
    stream.done = true
    this.batchingUnsupported = true
    this.retire(stream)
    for (const request of stream.waiting.splice(0)) {
      const entry = this.pending.get(request.id ?? 0)
      if (entry?.stream !== stream) continue
      const next = this.stream()
      entry.stream = next
      next.inFlight++
      this.send(next, request)
    }
  }

  private answer(response: SessionResponse__Output): void {
    const entry = this.pending.get(response.id)
    if (!entry) return // expired or cancelled meanwhile
    const kind = response.response
    const error = kind === 'error' && response.error ? fromWireStatus(response.error) : undefined
    // The TM is closing this stream: what comes next goes on a new one (else it is refused here too).
    if (error?.metadata.sessionClosing === 'true') this.retire(entry.stream)
    this.settle(response.id, () => {
      if (error) entry.reject(error)
      else if (kind === entry.kind) entry.resolve(response[kind])
      else entry.reject(new ArbiterError('TM_INTERNAL', `the TM answered ${entry.kind} with ${kind ?? 'nothing'}`))
    })
  }

  private expire(id: number, ms: number): void {
    const entry = this.pending.get(id)
    if (!entry) return
    // Nothing came back on the stream since this request went out: it may be
    // half-open (a TM host gone without a reset). New requests get a new one.
    if (entry.stream.lastAnswerAt < entry.sentAt) this.retire(entry.stream)
    this.settle(id, () => entry.reject(deadlineError(entry.kind, ms)))
  }

  private broken(stream: OpenStream, error: ArbiterError): void {
    this.retire(stream)
    for (const [id, entry] of this.pending) if (entry.stream === stream) this.settle(id, () => entry.reject(error))
  }

  private retire(stream: OpenStream): void {
    stream.retired = true
    if (this.current === stream) this.current = undefined
  }

  private settle(id: number, finish: () => void): void {
    const entry = this.pending.get(id)
    if (!entry) return
    this.pending.delete(id)
    clearTimeout(entry.timer)
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort)
    const stream = entry.stream
    stream.inFlight--
    if (stream.retired && stream.inFlight === 0 && !stream.done) {
      stream.done = true
      stream.batcher?.drop()
      stream.call.cancel()
    }
    finish()
  }
}
