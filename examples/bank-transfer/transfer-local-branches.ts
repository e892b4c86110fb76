// Mode 2: the application keeps its own pg and mysql2 pools and queries;
// Arbiter only coordinates (`tx.enlist`). The client library prepares both
// connections at commit, and commits them on the same connections once the
// TM's decision is durable.
import type pg from 'pg'
import type { Pool as MysqlPool, PoolConnection, ResultSetHeader } from 'mysql2/promise'
import { TransactionAbortedError, type ArbiterClient } from '../../client/index.js'
import { InsufficientFundsError } from './accounts.js'
import { balanceUpdate, ledgerInsert, legsInLockOrder, type Transfer } from './transfer.js'

export interface BankPools {
  readonly pg: pg.Pool
  readonly mysql: MysqlPool
}

/** Resolves with the gtrid it committed under (its prefix names the TM node that coordinated it). */
export async function transferWithLocalBranches(client: ArbiterClient, pools: BankPools, transfer: Transfer): Promise<string> {
  const banks = new Set([transfer.from.bank, transfer.to.bank])
  const pgConn = banks.has('pg') ? await pools.pg.connect() : undefined
  // pg's pool guards only idle clients: a checked-out one whose server dies
  // emits 'error', which would crash the process without a listener. The
  // query in flight rejects anyway; the connection is dropped below.
  let connectionLost = false
  const onLost = (): void => {
    connectionLost = true
  }
  pgConn?.on('error', onLost)
  const mysqlConn = banks.has('mysql') ? await pools.mysql.getConnection().catch((error: unknown) => {
    pgConn?.off('error', onLost)
    pgConn?.release()
    throw error
  }) : undefined
  let failure: unknown
  try {
    return await client.transaction(
      async (tx) => {
        // Both branches start at once (BEGIN and XA START in parallel, as raw 2PC does).
        await Promise.all([pgConn && tx.enlist('pg', pgConn), mysqlConn && tx.enlist('mysql', mysqlConn)])
        for (const leg of legsInLockOrder(transfer)) {
          const affected = await run(leg.account.bank === 'pg' ? pgConn! : mysqlConn!, ...balanceUpdate(leg))
          if (affected === 0) throw new InsufficientFundsError(transfer.from, transfer.amount)
          await run(leg.account.bank === 'pg' ? pgConn! : mysqlConn!, ...ledgerInsert(transfer.id, leg))
        }
        return tx.gtrid
      },
      { timeoutMs: 10_000, labels: { transfer: transfer.id } },
    )
  } catch (error) {
    failure = error
    throw error
  } finally {
    // After an abort the connections are idle and clean again. After anything
    // else (an unknown outcome, where the client library closed them so the TM
    // can finish their branches, or a connection error) they must not go back
    // to the pool.
    const clean = failure === undefined || failure instanceof InsufficientFundsError || failure instanceof TransactionAbortedError
    const broken = !clean || connectionLost
    // A connection dropped from the pool is ended, and its server may still tell it it was terminated
    // (a killed session): that 'error' would have no listener and crash the process. Kept for it alone.
    if (!broken) pgConn?.off('error', onLost)
    pgConn?.release(broken)
    if (broken) mysqlConn?.destroy()
    else mysqlConn?.release()
  }
}

async function run(conn: pg.PoolClient | PoolConnection, sql: string, params: (number | string)[]): Promise<number> {
  if ('escapeLiteral' in conn) return (await conn.query(sql, params)).rowCount ?? 0
  const [result] = await conn.query<ResultSetHeader>(sql, params)
  return result.affectedRows
}
