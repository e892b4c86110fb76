// Mode 1: the statements go through Arbiter (`tx.execute`). The application
// holds no database connection at all; any gRPC client could do the same.
import type { ArbiterClient } from '../../client/index.js'
import { InsufficientFundsError } from './accounts.js'
import { balanceUpdate, ledgerInsert, legsInLockOrder, type Transfer } from './transfer.js'

export async function transferThroughTm(client: ArbiterClient, transfer: Transfer): Promise<void> {
  await client.transaction(
    async (tx) => {
      for (const leg of legsInLockOrder(transfer)) {
        const { affectedRows } = await tx.execute(leg.account.bank, ...balanceUpdate(leg))
        // Throwing rolls back both databases; the caller gets this error back.
        if (affectedRows === 0) throw new InsufficientFundsError(transfer.from, transfer.amount)
        await tx.execute(leg.account.bank, ...ledgerInsert(transfer.id, leg))
      }
    },
    { timeoutMs: 10_000, labels: { transfer: transfer.id } },
  )
}
