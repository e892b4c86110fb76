// Which client-named transactions a TM may begin (pure logic: no server).
import { describe, expect, it } from 'vitest'
import { newGtrid } from '../../../adapters/xid/xid.js'
import { CLOCK_TOLERANCE_MS, ClientNamedBegins } from '../../../server/coordinator/client-named-begins.js'

const gate = (): ClientNamedBegins => new ClientNamedBegins('tm1', 60_000)

function attempt(begins: ClientNamedBegins, gtrid: string, now: number, options: { instance?: string; timeoutMs?: number; accepting?: boolean } = {}): string {
  try {
    begins.check(gtrid, begins.parse(gtrid), options.instance ?? begins.instance, options.timeoutMs ?? 10_000, now, options.accepting ?? true)
    return 'begun'
  } catch (error) {
    const e = error as { code: string; metadata: Record<string, string>; message: string }
    expect(e.code).toBe('TM_TX_ABORTED')
    expect(e.metadata).toMatchObject({ retryable: 'true', beginRefused: 'true' })
    return e.message
  }
}

describe('ClientNamedBegins', () => {
  it('begins a fresh gtrid of this node and run, on time', () => {
    const begins = gate()
    const now = Date.now()
    expect(attempt(begins, newGtrid('tm1', now), now)).toBe('begun')
    expect(attempt(begins, newGtrid('tm1', now + CLOCK_TOLERANCE_MS), now)).toBe('begun')
    expect(attempt(begins, newGtrid('tm1', now - 9_999), now)).toBe('begun')
  })

  it('refuses another node, another run, a clock ahead, a passed deadline, and a TM shutting down', () => {
    const begins = gate()
    const now = Date.now()
    expect(attempt(begins, newGtrid('tm2', now), now)).toMatch(/names TM node "tm2"/)
    expect(attempt(begins, newGtrid('tm1', now), now, { instance: 'earlier-run' })).toMatch(/another run/)
    expect(attempt(new ClientNamedBegins('tm1', 60_000), newGtrid('tm1', now), now, { instance: begins.instance })).toMatch(/another run/)
    expect(attempt(begins, newGtrid('tm1', now + CLOCK_TOLERANCE_MS + 1), now)).toMatch(/ahead of the TM's clock/)
    expect(attempt(begins, newGtrid('tm1', now - 10_001), now)).toMatch(/deadline passed 1 ms ago/)
    expect(attempt(begins, newGtrid('tm1', now), now, { accepting: false })).toMatch(/shutting down/)
    expect(() => begins.parse('not-a-gtrid')).toThrow(/malformed gtrid/)
  })

  it('a closed gtrid stays refused until a begin would be refused anyway, then is swept', () => {
    const begins = gate()
    const now = Date.now()
    const orphan = newGtrid('tm1', now)
    begins.closePresumedAborted(orphan, now)
    expect(attempt(begins, orphan, now)).toMatch(/presumed abort/)
    const ran = newGtrid('tm1', now)
    begins.closeForgotten(ran, now + 10_000 + CLOCK_TOLERANCE_MS)
    expect(attempt(begins, ran, now + 5_000)).toMatch(/already run/)
    begins.sweep(now + 10_000 + CLOCK_TOLERANCE_MS + 1)
    // Gone from the closed list, and refused by its deadline instead.
    expect(attempt(begins, ran, now + 10_000 + CLOCK_TOLERANCE_MS + 1)).toMatch(/deadline passed/)
    // The presumed-aborted one is kept for the longest timeout (60 s here).
    expect(attempt(begins, orphan, now + 5_000, { timeoutMs: 60_000 })).toMatch(/presumed abort/)
  })
})
