// One transfer = a debit and a credit, each with its ledger row, possibly in
// two databases. The legs run in a global lock order (by account), so two
// opposite transfers never wait for each other across databases: neither
// database could see that deadlock.
import { accountKey, type Account, type Bank } from './accounts.js'

export interface Transfer {
  /** Unique: it is the ledger's key. */
  readonly id: string
  readonly from: Account
  readonly to: Account
  readonly amount: number
}

export interface Leg {
  readonly account: Account
  /** Negative for the debit. */
  readonly delta: number
}

export function legsInLockOrder(transfer: Transfer): Leg[] {
  const legs: Leg[] = [
    { account: transfer.from, delta: -transfer.amount },
    { account: transfer.to, delta: transfer.amount },
  ]
  return legs.sort((a, b) => (accountKey(a.account) < accountKey(b.account) ? -1 : 1))
}

type Statement = readonly [sql: string, params: (number | string)[]]

/** The balance update of a leg; a debit only matches when the money is there. */
export function balanceUpdate(leg: Leg): Statement {
  const pg = leg.account.bank === 'pg'
  if (leg.delta < 0) {
    const amount = -leg.delta
    return pg
      ? ['UPDATE accounts SET balance = balance - $1 WHERE id = $2 AND balance >= $1', [amount, leg.account.id]]
      : ['UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ?', [amount, leg.account.id, amount]]
  }
  return pg
    ? ['UPDATE accounts SET balance = balance + $1 WHERE id = $2', [leg.delta, leg.account.id]]
    : ['UPDATE accounts SET balance = balance + ? WHERE id = ?', [leg.delta, leg.account.id]]
}

export function ledgerInsert(transferId: string, leg: Leg): Statement {
  return [placeholders(leg.account.bank, 'INSERT INTO ledger (transfer_id, account_id, delta) VALUES (?, ?, ?)'), [transferId, leg.account.id, leg.delta]]
}

function placeholders(bank: Bank, sql: string): string {
  let n = 0
  return bank === 'pg' ? sql.replace(/\?/g, () => `$${++n}`) : sql
}
