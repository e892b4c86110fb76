// The demo's core: random concurrent transfers across both databases in both
// client modes, a SIGKILL of the TM halfway, and a check of every invariant
// at the end (reliability.md §b). Used by `npm run demo` and by its test.
import { writeFileSync } from 'node:fs'
import { createArbiterClient } from '../../client/index.js'
import { ArbiterProcess, testConfig } from '../../test/helpers/test-arbiter.js'
import { preparedLeft } from './bank-check.js'
import { checkAtQuiescence, DECISION_SHARE, openBank, TransferWorkload, waitFor, type BankSummary, type DemoProgress } from './demo-workload.js'

export type { DemoProgress } from './demo-workload.js'

export interface DemoOptions {
  /** Databases to use (fresh ones: the demo creates its tables there). */
  readonly pgUrl: string
  readonly mysqlUrl: string
  readonly transfers?: number
  readonly concurrency?: number
  readonly accountsPerBank?: number
  readonly initialBalance?: number
  /**
   * The TM kills itself with SIGKILL right after logging a decision, about
   * this far into the run (default 0.5; null: never), so that at least one
   * decided transfer is in doubt when it restarts.
   */
  readonly crashAt?: number | null
  readonly onProgress?: (progress: DemoProgress) => void
  /** Write the TM's own log (JSON lines, both runs) to this file at the end. */
  readonly tmLogFile?: string
  readonly log?: (line: string) => void
}

export interface DemoSummary extends BankSummary {
  readonly crash?: { readonly inDoubtAtRestart: number; readonly recoveredInMs: number }
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const total = options.transfers ?? 2000
  const concurrency = options.concurrency ?? 16
  const perBank = options.accountsPerBank ?? 20
  const log = options.log ?? (() => undefined)
  const bank = await openBank(options.pgUrl, options.mysqlUrl, concurrency + 2, perBank, options.initialBalance ?? 1000)

  const config = testConfig(
    [
      { name: 'pg', kind: 'postgres', url: options.pgUrl, poolSize: concurrency + 4 },
      { name: 'mysql', kind: 'mysql', url: options.mysqlUrl, poolSize: concurrency + 4 },
    ],
    { transactions: { defaultTimeoutMs: 10_000, localBranchGraceMs: 2000 } },
  )
  const nodeId = config.nodeId!
  const crashAfter = options.crashAt === null ? undefined : Math.max(1, Math.floor(total * (options.crashAt ?? 0.5) * DECISION_SHARE))
  const tm = await ArbiterProcess.start(config, crashAfter === undefined ? {} : { ARBITER_FAILPOINTS: `after-decision#${crashAfter}=crash` })
  log(`Arbiter is up at ${tm.address} (node ${nodeId}), decision log in ${config.dataDir}`)
  const client = createArbiterClient({ address: tm.address, defaultDeadlineMs: 15_000, outcomeQueryAttempts: 8 })
  const work = new TransferWorkload({ client, bank, total, concurrency, ...(options.onProgress && { onProgress: options.onProgress }) })

  let workersDone = false
  let tmLog = ''
  let crash: DemoSummary['crash']
  const t0 = Date.now()

  const crashAndRecover = async (): Promise<void> => {
    tmLog += tm.logs()
    log(`the TM was killed with SIGKILL after ${work.done} transfers, right after logging a decision, with transfers in flight`)
    await new Promise((r) => setTimeout(r, 300))
    const restartedAt = Date.now()
    await tm.spawn()
    const inDoubt = Number(/"unfinished":(\d+)/.exec(tm.logs())?.[1] ?? 0)
    log(`TM restarted: ${inDoubt} decided transfer(s) in doubt in its log; recovery is finishing them`)
    await waitFor(async () => (await preparedLeft(bank.pgPool, bank.mysqlPool, nodeId)).total === 0, 30_000)
    crash = { inDoubtAtRestart: inDoubt, recoveredInMs: Date.now() - restartedAt }
    log(`recovery done in ${crash.recoveredInMs} ms: no prepared branch left on either database`)
  }

  // Workers ride out the downtime by retrying what the TM refused (UNAVAILABLE).
  let crashStarted = false
  const crashed =
    crashAfter === undefined
      ? undefined
      : tm.exited().then(() => {
          if (workersDone) return // the TM stopped at the end: not the crash
          crashStarted = true
          return crashAndRecover()
        })
  await work.run()
  workersDone = true
  if (crashStarted) await crashed // a late crash: let its recovery finish before checking
  if (crashAfter !== undefined && crash === undefined) log('the fail point did not fire: too few transfers logged a decision')
  const durationMs = Date.now() - t0

  const summary = await checkAtQuiescence(bank, work, [nodeId], durationMs)
  client.close()
  await tm.stop()
  if (options.tmLogFile) writeFileSync(options.tmLogFile, tmLog + tm.logs())
  await tm.destroy()
  await bank.close()
  return { ...summary, ...(crash && { crash }) }
}
