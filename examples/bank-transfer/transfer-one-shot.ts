// Mode 3: the whole transfer in one call (client.run()): both legs' balance
// updates and ledger rows, committed together in one round trip. There is no
// callback to look at a result, so the balance's CHECK (balance >= 0) is what
// refuses an overdraft: the failing statement rolls everything back.
import { TransactionAbortedError, type ArbiterClient, type RunStatement } from '../../client/index.js'
import { InsufficientFundsError } from './accounts.js'
import { ledgerInsert, legsInLockOrder, type Transfer } from './transfer.js'

export async function transferOneShot(client: ArbiterClient, transfer: Transfer): Promise<void> {
  const statements: RunStatement[] = []
  for (const leg of legsInLockOrder(transfer)) {
    const resource = leg.account.bank
    const update =
      resource === 'pg'
        ? { sql: 'UPDATE accounts SET balance = balance + $1 WHERE id = $2', params: [leg.delta, leg.account.id] }
        : { sql: 'UPDATE accounts SET balance = balance + ? WHERE id = ?', params: [leg.delta, leg.account.id] }
    const [sql, params] = ledgerInsert(transfer.id, leg)
    statements.push({ resource, ...update }, { resource, sql, params })
  }
  try {
    await client.run(statements, { timeoutMs: 10_000, labels: { transfer: transfer.id } })
  } catch (error) {
    // PostgreSQL 23514, MariaDB 4025: the CHECK refused the debit.
    if (error instanceof TransactionAbortedError && /23514|4025|CONSTRAINT/i.test(`${error.serverCode ?? ''} ${error.message}`)) {
      throw new InsufficientFundsError(transfer.from, transfer.amount)
    }
    throw error
  }
}
