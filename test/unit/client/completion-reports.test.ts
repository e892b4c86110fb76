// Batching of the local-branch completion reports (pure logic: no TM needed).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CompletionReports, REPORT_BATCH_MAX, REPORT_DELAY_MS } from '../../../client/completion-reports.js'
import type { CompleteLocalBranchesRequest } from '../../../proto/gen/arbiter/v1/CompleteLocalBranchesRequest.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('CompletionReports', () => {
  it('sends the reports of a few milliseconds in one request', () => {
    vi.useFakeTimers()
    const sent: CompleteLocalBranchesRequest[] = []
    const reports = new CompletionReports(async (request) => sent.push(request))
    reports.add('n:1', [Buffer.from('L1')])
    reports.add('n:2', [Buffer.from('L1'), Buffer.from('L2')])
    expect(sent).toHaveLength(0)
    vi.advanceTimersByTime(REPORT_DELAY_MS)
    expect(sent).toEqual([
      {
        batch: [
          { gtrid: 'n:1', committedBquals: [Buffer.from('L1')] },
          { gtrid: 'n:2', committedBquals: [Buffer.from('L1'), Buffer.from('L2')] },
        ],
      },
    ])
    vi.advanceTimersByTime(REPORT_DELAY_MS * 10)
    expect(sent).toHaveLength(1)
  })

  it('sends at once when a request is full, and on flush (close)', () => {
    vi.useFakeTimers()
    const sizes: number[] = []
    const reports = new CompletionReports(async (request) => sizes.push(request.batch!.length))
    for (let i = 0; i < REPORT_BATCH_MAX + 3; i++) reports.add(`n:${i}`, [Buffer.from('L1')])
    expect(sizes).toEqual([REPORT_BATCH_MAX])
    reports.flush()
    expect(sizes).toEqual([REPORT_BATCH_MAX, 3])
    reports.flush()
    expect(sizes).toHaveLength(2)
  })

  it('take() hands the queued reports to a Commit to carry: nothing is sent on its own', () => {
    vi.useFakeTimers()
    const sent: CompleteLocalBranchesRequest[] = []
    const reports = new CompletionReports(async (request) => sent.push(request))
    expect(reports.take()).toEqual([])
    reports.add('n:1', [Buffer.from('L1')])
    expect(reports.take()).toEqual([{ gtrid: 'n:1', committedBquals: [Buffer.from('L1')] }])
    vi.advanceTimersByTime(REPORT_DELAY_MS * 10)
    reports.flush()
    expect(sent).toEqual([])
  })

  it('putBack() queues reports a failed Commit carried: they go out alone after the delay', () => {
    vi.useFakeTimers()
    const sent: CompleteLocalBranchesRequest[] = []
    const reports = new CompletionReports(async (request) => sent.push(request))
    reports.add('n:1', [Buffer.from('L1')])
    const carried = reports.take()
    reports.putBack(carried)
    vi.advanceTimersByTime(REPORT_DELAY_MS)
    expect(sent).toEqual([{ batch: [{ gtrid: 'n:1', committedBquals: [Buffer.from('L1')] }] }])
  })

  it('a failed request is dropped quietly (the TM finishes what it does not hear about)', async () => {
    const failures = vi.fn()
    process.on('unhandledRejection', failures)
    const reports = new CompletionReports(() => Promise.reject(new Error('TM gone')))
    reports.add('n:1', [Buffer.from('L1')])
    reports.flush()
    await new Promise((resolve) => setTimeout(resolve, 10))
    process.off('unhandledRejection', failures)
    expect(failures).not.toHaveBeenCalled()
  })
})
