// waitForConnection: a pool checkout bounded by the caller's signal and a timeout.
import { describe, expect, it } from 'vitest'
import { waitForConnection } from '../../../adapters/pool-wait.js'

/** A pool checkout the test hands out (or fails) when it likes. */
function checkout(): { got: Promise<string>; give: (c: string) => void; fail: (e: Error) => void } {
  let give!: (c: string) => void
  let fail!: (e: Error) => void
  const got = new Promise<string>((resolve, reject) => {
    give = resolve
    fail = reject
  })
  return { got, give, fail }
}

const errors = { abortError: () => new Error('aborted'), timeout: { ms: 60_000, error: () => new Error('timed out') } }
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5))

describe('waitForConnection', () => {
  it('resolves with the connection when it comes first, and gives nothing back', async () => {
    const c = checkout()
    const givenBack: string[] = []
    const waiting = waitForConnection(c.got, { ...errors, signal: new AbortController().signal, giveBack: (x) => givenBack.push(x) })
    c.give('conn-1')
    await expect(waiting).resolves.toBe('conn-1')
    expect(givenBack).toEqual([])
  })

  it('rejects with the abort error when the signal aborts first; the connection that comes later goes back to the pool', async () => {
    const c = checkout()
    const givenBack: string[] = []
    const abort = new AbortController()
    const waiting = waitForConnection(c.got, { ...errors, signal: abort.signal, giveBack: (x) => givenBack.push(x) })
    abort.abort()
    await expect(waiting).rejects.toThrow('aborted')
    c.give('conn-2')
    await tick()
    expect(givenBack).toEqual(['conn-2'])
  })

  it('rejects at once on a signal already aborted, and still gives back what the pool hands out', async () => {
    const c = checkout()
    const givenBack: string[] = []
    const abort = new AbortController()
    abort.abort()
    await expect(waitForConnection(c.got, { ...errors, signal: abort.signal, giveBack: (x) => givenBack.push(x) })).rejects.toThrow('aborted')
    c.give('conn-3')
    await tick()
    expect(givenBack).toEqual(['conn-3'])
  })

  it('rejects with the timeout error after the timeout; a later connection goes back', async () => {
    const c = checkout()
    const givenBack: string[] = []
    const waiting = waitForConnection(c.got, { ...errors, timeout: { ms: 20, error: () => new Error('timed out') }, giveBack: (x) => givenBack.push(x) })
    await expect(waiting).rejects.toThrow('timed out')
    c.give('conn-4')
    await tick()
    expect(givenBack).toEqual(['conn-4'])
  })

  it("passes the pool's own failure through; an abort afterwards changes nothing", async () => {
    const c = checkout()
    const abort = new AbortController()
    const waiting = waitForConnection(c.got, { ...errors, signal: abort.signal, giveBack: () => undefined })
    c.fail(new Error('connection refused'))
    await expect(waiting).rejects.toThrow('connection refused')
    abort.abort()
  })
})
