// Mode 1: the statements go through Arbiter. The application holds no
// database connection at all; any gRPC client could do the same. Each leg's
// two statements (the balance update and its ledger row) travel as one batch
// (`tx.executeBatch`): one round trip to the TM per database.
import type { ArbiterClient } from '../../client/index.js'
import { InsufficientFundsError } from './accounts.js'
import { balanceUpdate, ledgerInsert, legsInLockOrder, type Transfer } from './transfer.js'

/** Resolves with the gtrid it committed under (its prefix names the TM node that ran it). */
export async function transferThroughTm(client: ArbiterClient, transfer: Transfer): Promise<string> {
  return client.transaction(
    async (tx) => {
      // Legs one after the other, in lock order: two transfers never wait for each other across the databases.
      for (const leg of legsInLockOrder(transfer)) {
        const [update, insert] = [balanceUpdate(leg), ledgerInsert(transfer.id, leg)]
        const resource = leg.account.bank
        const [updated] = await tx.executeBatch([
          { resource, sql: update[0], params: update[1] },
          { resource, sql: insert[0], params: insert[1] },
        ])
        // No row debited: the ledger row is rolled back with everything else when this throws.
        if (updated?.affectedRows === 0) throw new InsufficientFundsError(transfer.from, transfer.amount)
      }
      return tx.gtrid
    },
    { timeoutMs: 10_000, labels: { transfer: transfer.id } },
  )
}
