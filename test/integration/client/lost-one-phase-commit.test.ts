// Regression (found by the bank demo in CI): a transaction with one writing
// branch commits in one phase and leaves no log record. When the TM dies
// after that COMMIT and before answering, the restarted TM does not know the
// transaction — and that must reach the caller as an unknown outcome, never
// as "rolled back" (it committed).
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createArbiterClient, OutcomeUnknownError } from '../../../client/index.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../../helpers/test-arbiter.js'

let dbs: TestDatabases
beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'lost1pc')
})
afterAll(async () => {
  await dbs?.close()
})

it('a one-phase commit whose answer was lost is reported as an unknown outcome, not as rolled back', async () => {
  const tm = await ArbiterProcess.start(testConfig([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }]), {
    ARBITER_FAILPOINTS: 'after-one-phase-commit=crash',
  })
  const client = createArbiterClient({ address: tm.address, outcomeQueryAttempts: 6 })
  // Restart the TM as soon as it dies, while the client is asking what became of its commit.
  const restarted = tm.exited().then(() => tm.spawn())
  const error = await client
    .transaction(async (tx) => {
      await tx.execute('pg', 'INSERT INTO accounts VALUES ($1, $2)', [1, 10])
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    )
  await restarted
  expect(error).toBeInstanceOf(OutcomeUnknownError)
  expect(await dbs.pgQuery('SELECT balance FROM accounts WHERE id = 1')).toEqual([{ balance: '10' }]) // it did commit
  client.close()
  await tm.destroy()
})
