// Which logged resolution makes a transaction's outcome mixed (HEURISTIC),
// as every view of the log judges it after a restart (log-record.ts).
import { describe, expect, it } from 'vitest'
import { isLogRecord, mixingResolution, resolutionText, type ResolutionRecord } from '../../../server/log/log-record.js'

function resolution(action: ResolutionRecord['action'], heuristic: boolean, inPart?: true): ResolutionRecord {
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

  it('an abandoned branch (its server gone) mixes a COMMIT decision, and reads back from the log as what it is', () => {
    const abandoned = resolution('abandon', true)
    expect(mixingResolution(true, [abandoned])?.action).toBe('abandon')
    expect(isLogRecord(JSON.parse(JSON.stringify(abandoned)))).toBe(true)
    expect(isLogRecord({ ...abandoned, action: 'forget' })).toBe(false)
    expect(resolutionText(abandoned)).toMatch(/^abandoned .*not known to have committed.* by op \(heuristic\): why$/)
  })

  it('an abandon mixes for good: a commit logged for that branch later does not make it whole, unless it says the abandon was overtaken', () => {
    // Found by hostile testing: a forced --commit after an abandon turned HEURISTIC into COMMITTED, while recovery
    // committing the same branch left it HEURISTIC; and an abandon that phase 2 had overtaken made a COMMITTED one HEURISTIC.
    expect(mixingResolution(true, [resolution('abandon', true), resolution('commit', false)])?.action).toBe('abandon')
    expect(mixingResolution(true, [resolution('abandon', true), { ...resolution('commit', false), overtaken: true }])).toBeUndefined()
  })

  it('no resolutions: whole', () => {
    expect(mixingResolution(true, [])).toBeUndefined()
    expect(mixingResolution(false, [])).toBeUndefined()
  })
})
