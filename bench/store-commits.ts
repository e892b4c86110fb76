// Commits of the store's database as PostgreSQL itself counts them
// (pg_stat_database.xact_commit), not as Arbiter reports them: decision
// batches, lease renewals, takeover scans and reads alike.
//
// The counter is read from another database of the same server (its
// `postgres`), so reading it commits nothing in the store's. PostgreSQL's
// backends report their counts when they go idle, at most once a second
// (an idle one after about ten seconds): the counter moves in steps, and a
// read between two steps misses up to a second of commits. So a span is
// measured between two steps, inside the window under steady load: the
// counter is polled every POLL_MS, the span runs from the first step seen
// after a fifth of the window to the last one seen before its end, and each
// end is paired with the transfers committed by the read that saw the step.
// Just after a step the busiest backend (the one writing decision batches)
// has no count left unreported.
import pg from 'pg'

export class StoreCommits {
  private constructor(
    private readonly client: pg.Client,
    readonly database: string,
  ) {}

  /** serverUrl: any database of the store's server but the store's own (its `postgres`). */
  static async open(serverUrl: string, database: string): Promise<StoreCommits> {
    const client = new pg.Client({ connectionString: serverUrl, application_name: 'arbiter-bench-counter' })
    client.on('error', () => undefined)
    await client.connect()
    const current = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db
    if (current === database) throw new Error(`read the store's commit counter from another database than ${database}: reading it there would count`)
    return new StoreCommits(client, database)
  }

  /** xact_commit of the store's database as last reported by its backends. */
  async read(): Promise<number> {
    const r = await this.client.query<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1', [this.database])
    return Number(r.rows[0]?.n ?? 0)
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined)
  }
}

export interface CountedSpan {
  readonly commits: number
  readonly transfers: number
}

const POLL_MS = 20

/**
 * Polls the counter inside a window of `seconds` from `from` to `to`
 * (fractions of the window); resolves with the commits and the transfers
 * (`transfers()`, counted by the caller) between the first step of the
 * counter it saw and the last. Undefined when it saw fewer than two steps or
 * a read failed.
 */
export async function spanInWindow(counter: Pick<StoreCommits, 'read'>, seconds: number, transfers: () => number, from = 0.2, to = 0.97): Promise<CountedSpan | undefined> {
  const started = performance.now()
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
  await sleep(from * seconds * 1000)
  const end = started + to * seconds * 1000
  try {
    let last = await counter.read()
    let first: { commits: number; transfers: number } | undefined
    let latest: { commits: number; transfers: number } | undefined
    while (performance.now() < end) {
      await sleep(POLL_MS)
      const commits = await counter.read()
      if (commits === last) continue
      last = commits
      latest = { commits, transfers: transfers() }
      first ??= latest
    }
    return first && latest && latest !== first ? { commits: latest.commits - first.commits, transfers: latest.transfers - first.transfers } : undefined
  } catch {
    return undefined
  }
}
