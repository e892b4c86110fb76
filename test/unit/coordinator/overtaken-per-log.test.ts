// A forced rollback that found its branch finished, judged from the log once the
// transaction is forgotten from memory (operator-resolutions.ts overtakenPerLog).
import { describe, expect, it } from 'vitest'
import type { LoggedTransaction } from '../../../server/log/decision-log.js'
import type { ResolutionRecord } from '../../../server/log/log-record.js'
import { overtakenPerLog, type ResolutionOutcome } from '../../../server/coordinator/operator-resolutions.js'

const BQUAL = Buffer.from('0a', 'hex')
const found: ResolutionOutcome = { finished: 'already-done', heuristic: true, operator: 'ops', reason: 'by hand' }
const rollback = (): ResolutionRecord => ({ type: 'resolution', gtrid: 'n:g', resource: 'pg', bqual: '0a', action: 'rollback', operator: 'ops', reason: 'by hand', heuristic: true, at: 1 })
const logged = (o: Partial<LoggedTransaction>): LoggedTransaction => ({ gtrid: 'n:g', ended: true, resolutions: [rollback()], decision: { type: 'decision', gtrid: 'n:g', branches: [], at: 1 } as never, ...o })

describe('overtakenPerLog', () => {
  it('decided COMMIT and ended, this rollback the only one logged for the branch: phase 2 had committed it', () => {
    expect(overtakenPerLog(logged({}), 'pg', BQUAL, 'rollback', found)).toBe('overtaken')
  })

  it('not when the rollback was carried out, the transaction did not end, had no decision, or an earlier rollback of the branch is logged', () => {
    expect(overtakenPerLog(logged({}), 'pg', BQUAL, 'rollback', { ...found, finished: 'done' })).toBeUndefined()
    expect(overtakenPerLog(logged({ ended: false }), 'pg', BQUAL, 'rollback', found)).toBeUndefined()
    expect(overtakenPerLog(logged({ decision: undefined }), 'pg', BQUAL, 'rollback', found)).toBeUndefined()
    expect(overtakenPerLog(logged({ resolutions: [rollback(), rollback()] }), 'pg', BQUAL, 'rollback', found)).toBeUndefined()
    expect(overtakenPerLog(logged({}), 'pg', BQUAL, 'commit', found)).toBeUndefined()
    expect(overtakenPerLog(undefined, 'pg', BQUAL, 'rollback', found)).toBeUndefined()
  })
})
