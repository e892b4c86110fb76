// Batching for the BatchedSession stream, used by both ends: the messages
// added in one turn of the event loop are written together in the check
// phase (setImmediate), after every I/O callback of that turn has added its
// own. A batch never grows past a byte bound, so that it stays under the
// gRPC message-size limits of both ends; a message bigger than the bound
// goes alone, as it would have without batching.

/** The TM's response header on BatchedSession: it speaks it (the client sends nothing before it). */
export const BATCHED_SESSION_HEADER = 'arbiter-session'
/** The TM's response header: the largest message it receives (limits.maxMessageBytes). */
export const TM_MAX_MESSAGE_BYTES_HEADER = 'arbiter-max-message-bytes'
/** The client's request header: the largest message it receives (its grpc.max_receive_message_length). */
export const CLIENT_MAX_RECEIVE_BYTES_HEADER = 'arbiter-max-receive-bytes'
/** grpc-js's default limit on a message received. */
export const GRPC_DEFAULT_MAX_RECEIVE_BYTES = 4 * 1024 * 1024

/** The largest batch either end makes, whatever the limits allow. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024

/**
 * The byte bound of a batch sent to a peer that receives at most `peerLimit`
 * bytes in a message, under our own send limit `ownLimit`: half the smaller
 * (one message of the batch may be big on its own), at most 4 MiB. For
 * either limit a negative value means none (as in grpc-js's options); for
 * the peer, undefined or 0 means grpc-js's default.
 */
export function batchBound(peerLimit: number | undefined, ownLimit?: number): number {
  const limit = (value: number | undefined, otherwise: number): number =>
    value === undefined || !Number.isFinite(value) || value === 0 ? otherwise : value < 0 ? Infinity : value
  return Math.floor(Math.min(limit(peerLimit, GRPC_DEFAULT_MAX_RECEIVE_BYTES), limit(ownLimit, Infinity), 2 * MAX_BATCH_BYTES) / 2)
}

/**
 * An upper bound on the protobuf size of a message object, from a walk of its
 * values: strings at 3 bytes per UTF-16 unit (the most UTF-8 needs), numbers
 * at 10 (the longest varint), 6 bytes of tag and length per field or element,
 * and every object key counted as if encoded (a map's keys are: an entry is a
 * message of its own with the key as a string field). Cheap beside encoding it.
 */
export function encodedSizeBound(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 6 + 3 * value.length
    case 'number':
    case 'bigint':
    case 'boolean':
      return 16
    case 'object': {
      if (value === null) return 0
      if (value instanceof Uint8Array) return 6 + value.byteLength
      let size = 6
      if (Array.isArray(value)) for (const item of value) size += encodedSizeBound(item)
      else for (const key in value) size += 12 + 3 * key.length + encodedSizeBound((value as Record<string, unknown>)[key])
      return size
    }
    default:
      return 0
  }
}

export class MessageBatcher<T> {
  private queue: T[] = []
  private bytes = 0
  private scheduled = false

  constructor(
    /** Writes one batch (never empty). */
    private readonly write: (batch: T[]) => void,
    /** The byte bound of a batch (by encodedSizeBound). */
    private readonly maxBytes: number,
  ) {}

  add(message: T): void {
    const size = encodedSizeBound(message)
    if (this.queue.length > 0 && this.bytes + size > this.maxBytes) this.flush()
    this.queue.push(message)
    this.bytes += size
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => {
        this.scheduled = false
        this.flush()
      })
    }
  }

  /** Writes what is queued now. */
  flush(): void {
    if (this.queue.length === 0) return
    const batch = this.queue
    this.queue = []
    this.bytes = 0
    this.write(batch)
  }

  /** Forgets what is queued (the stream is gone). */
  drop(): void {
    this.queue = []
    this.bytes = 0
  }
}
