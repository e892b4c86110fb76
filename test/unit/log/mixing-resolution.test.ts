// Which logged resolution makes a transaction's outcome mixed (HEURISTIC),
// as every view of the log judges it after a restart (log-record.ts).
import { describe, expect, it } from 'vitest'
import { mixingResolution, type ResolutionRecord } from '../../../server/log/log-record.js'

function resolution(action: 'commit' | 'rollback', heuristic: boolean, inPart?: true): ResolutionRecord {
  return { type: 'resolution', gtrid: 'n:01ARZ3NDEKTSV4RRFFQ69G5FAV', at: 1, resource: 'pg', bqual: '6231', action, operator: 'op', reason: 'why', heuristic, ...(inPart && { inPart }) }
}

describe('mixingResolution', () => {
  it('against a COMMIT decision: a forced rollback mixes, a forced commit the decision agreed with does not', () => {
    expect(mixingResolution(true, [resolution('rollback', true)])?.action).toBe('rollback')
    expect(mixingResolution(true, [resolution('commit', true)])).toBeUndefined()
    expect(mixingResolution(true, [resolution('commit', false)])).toBeUndefined()
  })

  it('without a decision (presumed abort): a forced commit mixes, a rollback does not', () => {
    expect(mixingResolution(false, [resolution('commit', true)])?.action).toBe('commit')
    expect(mixingResolution(false, [resolution('rollback', false)])).toBeUndefined()
  })

  it('a branch committed in part mixes even though its action agrees with the decision', () => {
    expect(mixingResolution(true, [resolution('commit', false), resolution('commit', true, true)])?.inPart).toBe(true)
  })

  it('no resolutions: whole', () => {
    expect(mixingResolution(true, [])).toBeUndefined()
    expect(mixingResolution(false, [])).toBeUndefined()
  })
})
