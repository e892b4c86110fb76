// Batching for the BatchedSession stream, used by both ends: the messages
// added in one turn of the event loop are written together in the check
// phase (setImmediate), after every I/O callback of that turn has added its
// own. A batch never grows past a byte bound, so that it stays under the
// gRPC message-size limits of both ends; a message bigger than the bound
// goes alone, as it would have without batching.

/**
 * An upper bound on the protobuf size of a message object, from a walk of its
 * values: strings at 3 bytes per UTF-16 unit (the most UTF-8 needs), numbers
 * at 10 (the longest varint), 6 bytes of tag and length per field or element.
 * Cheap beside encoding it.
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
      else for (const key in value) size += encodedSizeBound((value as Record<string, unknown>)[key])
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
