// A small bank whose accounts live in two databases: ids 1…N in PostgreSQL,
// 1001…1000+N in MySQL/MariaDB. Resource names match the TM's config.

export type Bank = 'pg' | 'mysql'

export interface Account {
  readonly bank: Bank
  readonly id: number
}

export const MYSQL_ID_OFFSET = 1000

export function accountsOf(bank: Bank, perBank: number): Account[] {
  const offset = bank === 'pg' ? 0 : MYSQL_ID_OFFSET
  return Array.from({ length: perBank }, (_, i) => ({ bank, id: offset + i + 1 }))
}

export function accountKey(account: Account): string {
  return `${account.bank}:${account.id}`
}

/** Thrown by a transfer that would overdraw its source account: the whole transfer rolls back. */
export class InsufficientFundsError extends Error {
  override readonly name = 'InsufficientFundsError'
  constructor(
    readonly account: Account,
    readonly amount: number,
  ) {
    super(`insufficient funds: account ${accountKey(account)} cannot pay ${amount}`)
  }
}
