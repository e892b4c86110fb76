// The log's record format: what a frame may hold. A decision's trace context
// is optional; a frame whose trace is not a string is corruption, not data.
import { describe, expect, it } from 'vitest'
import { isLogRecord } from '../../../server/log/log-record.js'
import { encodeFrame, readFrame } from '../../../server/log/record-frame.js'

const decision = { type: 'decision', gtrid: 'n1:1', at: 1, branches: [{ resource: 'pg', bqual: '00' }] } as const
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

describe('log records', () => {
  it('a decision with or without its trace context round-trips through a frame unchanged', () => {
    for (const record of [decision, { ...decision, trace: traceparent }]) {
      const read = readFrame(encodeFrame(record), 0)
      expect(read).toMatchObject({ kind: 'record', record })
    }
  })

  it('an untraced decision is written as before tracing existed (no trace key at all)', () => {
    expect(encodeFrame(decision).toString('utf8')).not.toContain('trace')
  })

  it('a decision whose trace is not a string is not a log record', () => {
    expect(isLogRecord({ ...decision, trace: 7 })).toBe(false)
    expect(isLogRecord({ ...decision, trace: null })).toBe(false)
    expect(isLogRecord({ ...decision, trace: traceparent })).toBe(true)
  })
})
