// Session answers written with backpressure (server/grpc/backpressure.ts), on a real Node Duplex.
import { Duplex } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { backpressured } from '../../../server/grpc/backpressure.js'

/** A duplex whose writes complete only when `flush()` is called (a client not reading), reading side flowing. */
function slowDuplex() {
  const pending: (() => void)[] = []
  const stream = new Duplex({
    objectMode: true,
    highWaterMark: 2,
    read() {},
    write(_chunk, _encoding, callback) {
      pending.push(callback)
    },
  })
  stream.on('data', () => undefined) // flowing, as a session's request handler makes it
  return { stream, flush: () => pending.splice(0).forEach((callback) => callback()) }
}

describe('backpressured', () => {
  it('stops reading requests while answers are not taken, and reads again once they drain', async () => {
    const { stream, flush } = slowDuplex()
    const write = backpressured<object>(stream)
    write({ n: 1 })
    expect(stream.isPaused()).toBe(false)
    for (let n = 2; n <= 5; n++) write({ n })
    expect(stream.isPaused()).toBe(true)
    // The client takes the answers one by one: once all are taken ('drain'), requests are read again.
    for (let i = 0; i < 6; i++) {
      flush()
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(stream.isPaused()).toBe(false)
  })
})
