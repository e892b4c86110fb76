// The nemesis bank test, sized for CI: one node on its file log, then three
// nodes on a shared PostgreSQL store (issue #22), each for a fixed time under
// several overlapping fault streams. Together they cover at least 10,000
// transfers and 200 injected faults; each prints its figures and seed.
// Replay one with NEMESIS_SEED=<seed> (NEMESIS_SHAPE=single|cluster runs one
// shape, NEMESIS_SECONDS sets its length, NEMESIS_TM_LOG=<file> keeps the
// TMs' output); run long ones with `npm run soak`.
import { describe, expect, it } from 'vitest'
import { whyNotControllable } from '../harness/index.js'
import { formatReport, runNemesis, type NemesisOptions, type NemesisReport } from './nemesis/bank-nemesis.js'
import { ONE_NODE, THREE_NODES } from './nemesis/shapes.js'

const skip = whyNotControllable('postgres') ?? whyNotControllable('mariadb')
const seed = Number(process.env.NEMESIS_SEED ?? Date.now() % 1_000_000)
const only = process.env.NEMESIS_SHAPE
// CI's size (issue #22): both runs together cover at least this much. The
// cluster run goes on past its time until they do (up to its maxSeconds).
const CI_TRANSFERS = 10_000
const CI_FAULTS = 200
const SHAPES: { name: string; seconds: number; maxSeconds?: number; options: Partial<NemesisOptions> }[] = [
  { name: 'single', seconds: 150, options: ONE_NODE },
  { name: 'cluster', seconds: 150, maxSeconds: 300, options: THREE_NODES },
]

const reports: NemesisReport[] = []
/** A CI-sized run: both shapes, their default lengths. */
const ciSized = only === undefined && process.env.NEMESIS_SECONDS === undefined

describe.skipIf(skip !== undefined)('nemesis bank test', () => {
  for (const shape of SHAPES.filter((s) => only === undefined || s.name === only)) {
    const seconds = Number(process.env.NEMESIS_SECONDS ?? shape.seconds)
    const maxSeconds = ciSized ? (shape.maxSeconds ?? seconds) : seconds
    it(`${shape.name}: keeps every transfer atomic under random faults (seed ${seed}, ${seconds} s)`, { timeout: (maxSeconds + 150) * 1000 }, async () => {
      const before = { transfers: reports.reduce((n, r) => n + taken(r), 0), faults: reports.reduce((n, r) => n + faultCount(r), 0) }
      const report = await runNemesis({
        seed,
        durationMs: seconds * 1000,
        ...shape.options,
        ...(ciSized && {
          maxDurationMs: maxSeconds * 1000,
          enough: (c) => before.transfers + c.transfers >= CI_TRANSFERS && before.faults + c.faults >= CI_FAULTS,
        }),
        ...(process.env.NEMESIS_TM_LOG && { tmLogFile: `${process.env.NEMESIS_TM_LOG}.${shape.name}` }),
      })
      reports.push(report)
      console.log(formatReport(report))
      // A graceful restart costs no request the TM took its outcome (#20).
      expect(report.clean.casualties).toEqual([])
      if (report.faults['tm-sigterm']) expect(report.clean.acrossGracefulRestart).toBeGreaterThan(0)
      expect(report.anomalies).toEqual([])
      expect(report.totalAfter).toBe(report.totalBefore)
      expect(report.preparedLeft).toBe(0)
      expect(report.transfers.committed).toBeGreaterThan(0)
      expect(faultCount(report)).toBeGreaterThan(3)
    })
  }

  it.skipIf(!ciSized)(`CI size: both runs together covered at least ${CI_TRANSFERS} transfers and ${CI_FAULTS} faults`, () => {
    const transfers = reports.reduce((n, r) => n + taken(r), 0)
    const faults = reports.reduce((n, r) => n + faultCount(r), 0)
    console.log(`nemesis in this run: ${transfers} transfers the TMs took, ${faults} faults, over ${reports.length} runs (seed ${seed})`)
    expect(reports).toHaveLength(SHAPES.length)
    expect(transfers).toBeGreaterThanOrEqual(CI_TRANSFERS)
    expect(faults).toBeGreaterThanOrEqual(CI_FAULTS)
  })
})

/** Transfers the TM took: not the ones refused unsent while their node was down. */
function taken(r: NemesisReport): number {
  return r.transfers.committed + r.transfers.aborted + r.transfers.unknown
}

function faultCount(r: NemesisReport): number {
  return Object.values(r.faults).reduce((a, b) => a + b, 0)
}
