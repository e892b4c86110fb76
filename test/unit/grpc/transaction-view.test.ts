// The wire's Transaction.createdAtUnixMs is when the transaction began (its
// gtrid's time), not when this TM made the object. Found by hostile testing:
// after a takeover, `arbiter admin show` and `transactions` gave the taker's
// adoption as the creation time and counted the age from there, while the
// --older-than filter went by the gtrid.
import { describe, expect, it } from 'vitest'
import { newGtrid } from '../../../adapters/xid/xid.js'
import { Transaction } from '../../../server/coordinator/transaction.js'
import { toWireTransaction } from '../../../server/grpc/transaction-view.js'

describe('createdAtUnixMs', () => {
  it('a transaction brought back from the log (a restart, a takeover): the time its gtrid was named', () => {
    const began = Date.now() - 16_000
    const adopted = new Transaction(newGtrid('arbiter-x', began), Date.now() + 60_000, {})
    expect(Number(toWireTransaction(adopted).createdAtUnixMs)).toBe(began)
  })

  it("a gtrid named later than the object (a client's clock ahead): the object's time", () => {
    const tx = new Transaction(newGtrid('arbiter-x', Date.now() + 60_000), Date.now() + 60_000, {})
    expect(Number(toWireTransaction(tx).createdAtUnixMs)).toBe(tx.createdAt)
  })
})
