// The client's side of the Session stream (transaction_manager.proto): the
// TransactionManager calls multiplexed on one long-lived bidirectional
// stream, each request with an id, each answer matched back by it. Deadlines
// and cancellation are kept here, per request, because the stream has none.
// A stream that breaks fails every request in flight on it with the status
// it broke with (UNAVAILABLE when the TM went away), exactly as those unary
// calls would have failed; the next request opens a new stream.
import * as grpc from '@grpc/grpc-js'
import type { TransactionManagerClient } from '../proto/gen/arbiter/v1/TransactionManager.js'
import type { SessionRequest } from '../proto/gen/arbiter/v1/SessionRequest.js'
import type { SessionResponse__Output } from '../proto/gen/arbiter/v1/SessionResponse.js'
import { ArbiterError, fromGrpcError, fromWireStatus } from './errors.js'

/** The name of a request in SessionRequest's oneof. */
export type SessionKind = NonNullable<SessionRequest['request']>

interface Pending {
  readonly kind: SessionKind
  readonly stream: OpenStream
  readonly sentAt: number
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
  timer: NodeJS.Timeout | undefined
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

interface OpenStream {
  readonly call: grpc.ClientDuplexStream<SessionRequest, SessionResponse__Output>
  /** When it last delivered an answer (a stream that answers nothing may be half-open). */
  lastAnswerAt: number
  inFlight: number
  /** No new requests go here; it is cancelled once its last request is settled. */
  retired: boolean
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
      stream.call.write({ id, [kind]: body })
    })
  }

  /** Half-closes the stream: the server answers what is in flight, then ends it. */
  close(): void {
    this.closed = true
    this.current?.call.end()
    this.current = undefined
  }

  private stream(): OpenStream {
    if (this.current && !this.current.retired) return this.current
    this.onNewStream()
    const call = this.raw.Session(this.metadata())
    const stream: OpenStream = { call, lastAnswerAt: Date.now(), inFlight: 0, retired: false }
    call.on('data', (response: SessionResponse__Output) => {
      stream.lastAnswerAt = Date.now()
      this.answer(response)
    })
    // 'error' carries a non-OK status (without a listener grpc-js would throw
    // it); 'status' comes for every end, at once, where 'end' comes a tick later.
    call.on('error', (error: unknown) => this.broken(stream, fromGrpcError(error)))
    call.on('status', (status: grpc.StatusObject) =>
      this.broken(
        stream,
        status.code === grpc.status.OK
          ? fromGrpcError({ code: grpc.status.UNAVAILABLE, details: 'the TM ended the session before answering' })
          : fromGrpcError(status),
      ),
    )
    this.current = stream
    return stream
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
    if (stream.retired && stream.inFlight === 0) stream.call.cancel()
    finish()
  }
}
