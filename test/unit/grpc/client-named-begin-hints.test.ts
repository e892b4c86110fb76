// What a refused client-named begin tells the person reading it
// (server/coordinator/client-named-begins.ts). It said "call Begin instead"
// for every refusal, also where a Begin is refused too: a draining node, a
// decision log that takes no decision (found by hostile testing). The
// metadata clients act on (beginRefused, retryable) stays as it was.
import { describe, expect, it } from 'vitest'
import { newGtrid } from '../../../adapters/xid/xid.js'
import { ClientNamedBegins } from '../../../server/coordinator/client-named-begins.js'

function refusal(options: { accepting?: boolean; logRefusal?: string; instance?: string; nodeId?: string } = {}): { message: string; metadata: Record<string, string> } {
  const begins = new ClientNamedBegins('tm1', 60_000)
  const now = Date.now()
  const gtrid = newGtrid(options.nodeId ?? 'tm1', now)
  try {
    begins.check(gtrid, begins.parse(gtrid), options.instance ?? begins.instance, 10_000, now, options.accepting ?? true, options.logRefusal)
  } catch (error) {
    return error as { message: string; metadata: Record<string, string> }
  }
  throw new Error('expected a refusal')
}

describe('a refused client-named begin', () => {
  it.each([
    ['draining', { accepting: false }],
    ['the decision log refusing decisions', { logRefusal: 'the decision log takes no decision (the lease in the shared store is lost)' }],
  ])('%s: retry later or on another node, not "call Begin"', (_what, options) => {
    const { message, metadata } = refusal(options)
    expect(message).toMatch(/nothing was done \(retry later, or on another node: this node begins nothing now\)$/)
    expect(message).not.toMatch(/call Begin/)
    expect(metadata).toMatchObject({ retryable: 'true', beginRefused: 'true' })
  })

  it.each([
    ['another run', { instance: 'an-earlier-run' }],
    ['another node', { nodeId: 'tm2' }],
  ])('%s: nothing was done; retry, a new Begin names a fresh transaction', (_what, options) => {
    const { message, metadata } = refusal(options)
    expect(message).toMatch(/nothing was done \(retry: a new Begin names a fresh transaction\)$/)
    expect(metadata).toMatchObject({ retryable: 'true', beginRefused: 'true' })
  })

  it('keeps the draining metadata', () => {
    expect(refusal({ accepting: false }).metadata).toMatchObject({ draining: 'true' })
  })
})
