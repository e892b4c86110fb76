// The nemesis bank test, short enough for CI: replay a failure with
// NEMESIS_SEED=<the printed seed> (NEMESIS_TM_LOG=<file> keeps the TM's
// output); run long ones with `npm run soak`.
import { describe, expect, it } from 'vitest'
import { whyNotControllable } from '../harness/index.js'
import { formatReport, runNemesis } from './nemesis/bank-nemesis.js'

const skip = whyNotControllable('postgres') ?? whyNotControllable('mariadb')
const seed = Number(process.env.NEMESIS_SEED ?? Date.now() % 1_000_000)
const seconds = Number(process.env.NEMESIS_SECONDS ?? 45)

describe.skipIf(skip !== undefined)('nemesis bank test', () => {
  it(`keeps every transfer atomic under random faults (seed ${seed}, ${seconds} s)`, { timeout: (seconds + 120) * 1000 }, async () => {
    const report = await runNemesis({ seed, durationMs: seconds * 1000, ...(process.env.NEMESIS_TM_LOG && { tmLogFile: process.env.NEMESIS_TM_LOG }) })
    console.log(formatReport(report))
    // A graceful restart costs no request the TM took its outcome (#20).
    expect(report.clean.casualties).toEqual([])
    if (report.faults['tm-sigterm']) expect(report.clean.acrossGracefulRestart).toBeGreaterThan(0)
    expect(report.anomalies).toEqual([])
    expect(report.totalAfter).toBe(report.totalBefore)
    expect(report.preparedLeft).toBe(0)
    expect(report.transfers.committed).toBeGreaterThan(0)
    expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(3)
  })
})
