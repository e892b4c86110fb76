// Writing a session stream's answers with backpressure. While the client
// does not take what it was sent (the stream's write buffer is full), the
// stream stops reading its requests until it drains, so HTTP/2 flow control
// holds the client back instead of the TM's memory. Found by hostile
// testing: a client that sent requests without reading the answers grew the
// TM by 0.3 GiB per 200 000 requests, the answers piling up unsent while new
// requests were still taken (measured after: flat on Session, 60-80 MiB on
// BatchedSession, which then stayed there through 600 000).
/** What of a duplex stream (grpc-js's ServerDuplexStream, or any Node Duplex) this uses. */
export interface PausableWritable<T> {
  write(message: T): boolean
  isPaused(): boolean
  pause(): unknown
  resume(): unknown
  once(event: 'drain', listener: () => void): unknown
}

/** A write function for `stream` that pauses its reading side while its writing side is full. */
export function backpressured<T>(stream: PausableWritable<T>): (message: T) => void {
  return (message) => {
    if (stream.write(message) || stream.isPaused()) return
    stream.pause()
    stream.once('drain', () => stream.resume())
  }
}
