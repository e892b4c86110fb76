// A transaction with one writing branch commits in one phase. When the
// connection to that database dies during its COMMIT, only the database knows
// whether it committed, and the TM never learns more. Every view says so:
// OUTCOME_UNKNOWN, never HEURISTIC (which says "mixed", what an operator's
// contradicting resolution makes, and sends a client down the wrong path) nor
// a definite outcome.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createArbiterClient } from '../../../client/index.js'
import { fromGrpcError } from '../../../client/errors.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'
import { runAdminCli } from '../admin/cli.js'

let dbs: TestDatabases

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'unknown1pc')
  // A deferred trigger sleeps inside COMMIT, long enough for the test to cut that session.
  await dbs.pgQuery('CREATE TABLE slow_commit (id int PRIMARY KEY)')
  await dbs.pgQuery(`CREATE FUNCTION slow_commit_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(20); RETURN NULL; END $$`)
  await dbs.pgQuery(
    'CREATE CONSTRAINT TRIGGER slow_commit_trg AFTER INSERT ON slow_commit DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit_fn()',
  )
})
afterAll(async () => {
  await dbs?.close()
})

it('a one-phase COMMIT whose connection died: OUTCOME_UNKNOWN in the answer, GetTransaction, the client and the CLI', async () => {
  const arbiter = await startTestArbiter([
    { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
    { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
  ])
  const raw = tmClient(arbiter.address)
  const client = createArbiterClient({ address: arbiter.address })
  try {
    const { gtrid } = await raw.tm.Begin({ labels: { case: 'unknown-1pc' } })
    await raw.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO slow_commit VALUES (1)' } })
    // A read on the other resource: still one writer, so one phase.
    await raw.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'SELECT 1' } })
    const committing = grpcError(raw.tm.Commit({ gtrid }))

    // The TM's session sits in COMMIT (the trigger's sleep): cut it there.
    const commitPid = async (): Promise<number | undefined> =>
      (await dbs.pgQuery<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'COMMIT' AND state = 'active'"))[0]?.pid
    await expect.poll(commitPid, { timeout: 10_000, interval: 50 }).toBeDefined()
    await dbs.pgQuery('SELECT pg_terminate_backend($1)', [await commitPid()])

    const answered = fromGrpcError(await committing)
    expect(answered.code).toBe('TM_OUTCOME_UNKNOWN')
    expect(answered.message).toMatch(/one-phase commit on "pg" has an unknown outcome/)

    // Asked afterwards: unknown, not HEURISTIC (mixed) nor a definite outcome.
    const tx = await raw.tm.GetTransaction({ gtrid })
    expect(tx.state).toBe('TRANSACTION_STATE_OUTCOME_UNKNOWN')
    expect(tx.abortReason).toMatch(/unknown outcome/)
    expect(fromGrpcError(await grpcError(raw.tm.Commit({ gtrid }))).code).toBe('TM_OUTCOME_UNKNOWN')
    expect((await client.getTransaction(gtrid)).state).toBe('OUTCOME_UNKNOWN')

    const shown = await runAdminCli(['--address', arbiter.address, 'show', gtrid])
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toContain('OUTCOME_UNKNOWN')
    expect(shown.stdout).not.toContain('HEURISTIC')
    const listed = await runAdminCli(['--address', arbiter.address, '--json', 'transactions', '--state', 'OUTCOME_UNKNOWN'])
    expect(listed.code, listed.stderr).toBe(0)
    expect((JSON.parse(listed.stdout) as { transactions: { transaction: { gtrid: string } }[] }).transactions.map((r) => r.transaction.gtrid)).toEqual([gtrid])

    // Here the server rolled it back (its session was terminated before COMMIT ended): "committed" would have been a lie.
    expect(await dbs.pgQuery('SELECT id FROM slow_commit')).toEqual([])
    expect((await dbs.pgQuery("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()")).length).toBe(0)
  } finally {
    client.close()
    raw.close()
    await arbiter.stopAndClean()
  }
})
