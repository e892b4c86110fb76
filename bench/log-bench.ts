// The decision-log micro-benchmark: FileDecisionLog in a temp folder,
// `writers` concurrent appendDecision() loops, with group commit and with
// one write+fsync per decision (groupCommit: false).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileDecisionLog } from '../server/log/file-decision-log.js'
import { closedLoop } from './closed-loop.js'
import type { LogBenchRow } from './result.js'

const BRANCHES = [
  { resource: 'pg', bqual: '01' },
  { resource: 'mysql', bqual: '02' },
]

async function measure(writers: number, seconds: number, groupCommit: boolean): Promise<{ decisionsPerS: number; fsyncsPerDecision: number }> {
  // Next to the TM's own data folders (the same disk).
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-logbench-'))
  const log = new FileDecisionLog({ dir, groupCommit })
  try {
    await log.open()
    let n = 0
    const gtrid = (): string => `bench:${(n++).toString(36).padStart(26, '0')}`
    const outcome = await closedLoop({
      concurrency: writers,
      seconds,
      op: () => log.appendDecision(gtrid(), BRANCHES),
      reason: (e) => (e instanceof Error ? e.message : String(e)),
    })
    const { fsyncs } = log.stats()
    if (Object.keys(outcome.failures).length > 0) throw new Error(`decision log failed: ${Object.keys(outcome.failures).join('; ')}`)
    return { decisionsPerS: outcome.committed / outcome.seconds, fsyncsPerDecision: outcome.committed ? fsyncs / outcome.committed : 0 }
  } finally {
    await log.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function logBench(writers: readonly number[], seconds: number, progress: (line: string) => void): Promise<LogBenchRow[]> {
  const rows: LogBenchRow[] = []
  for (const w of writers) {
    // Alternate the order so drift hits both modes alike.
    const groupFirst = rows.length % 2 === 0
    const a = await measure(w, seconds, groupFirst)
    const b = await measure(w, seconds, !groupFirst)
    const [groupCommit, perDecision] = groupFirst ? [a, b] : [b, a]
    rows.push({ writers: w, groupCommit, perDecision })
    progress(
      `decision log, ${w} writer(s): group commit ${Math.round(groupCommit.decisionsPerS)}/s (${groupCommit.fsyncsPerDecision.toFixed(3)} fsyncs each), one fsync each ${Math.round(perDecision.decisionsPerS)}/s`,
    )
  }
  return rows
}
