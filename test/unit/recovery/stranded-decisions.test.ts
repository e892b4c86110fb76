// Which unfinished decisions start-up refuses to leave stranded (server/recovery/stranded-decisions.ts).
import { describe, expect, it } from 'vitest'
import { strandedDecisions } from '../../../server/recovery/stranded-decisions.js'

describe('strandedDecisions', () => {
  const decided = (gtrid: string, ...resources: string[]) => ({
    gtrid,
    decision: { type: 'decision' as const, gtrid, at: 0, branches: resources.map((resource, i) => ({ resource, bqual: `0${i}` })) },
    resolutions: [],
    ended: false,
  })
  it('names each unconfigured resource once per transaction; a configured or operator-resolved branch, or no decision, is not stranded', () => {
    const resolved = { ...decided('t3', 'gone'), resolutions: [{ type: 'resolution' as const, gtrid: 't3', at: 0, resource: 'gone', bqual: '00', action: 'commit' as const, operator: 'o', reason: 'r', heuristic: false }] }
    const stranded = strandedDecisions([decided('t1', 'pg', 'gone'), decided('t2', 'gone', 'gone'), resolved, { gtrid: 't4', resolutions: [], ended: false }] as never, new Set(['pg']))
    expect([...stranded]).toEqual([['gone', ['t1', 't2']]])
  })
})
