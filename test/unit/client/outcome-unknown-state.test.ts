// The client's outcome questions after a lost Commit answer: a TM that says
// the outcome is unknown to it too (OUTCOME_UNKNOWN: a one-phase COMMIT lost
// its connection) is believed at once. It is told OutcomeUnknownError, and no
// other Commit is sent: the TM never learns more.
import { describe, expect, it } from 'vitest'
import * as grpc from '@grpc/grpc-js'
import { commitTransaction } from '../../../client/commit.js'
import { HeuristicOutcomeError, OutcomeUnknownError } from '../../../client/errors.js'
import type { TmRpc } from '../../../client/tm-rpc.js'
import type { TransactionHandle } from '../../../client/transaction.js'

function lostAnswer(): grpc.ServiceError {
  return Object.assign(new Error('4 DEADLINE_EXCEEDED: Deadline exceeded'), { code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded', metadata: new grpc.Metadata() })
}

/** A TM whose first Commit answer is lost and whose GetTransaction says `state`. */
function tmSaying(state: string): { rpc: TmRpc; commits: () => number } {
  let commits = 0
  const rpc = {
    commit: async () => {
      commits++
      throw lostAnswer()
    },
    getTransaction: async () => ({ gtrid: 'g', state, abortReason: 'one-phase commit on "pg" has an unknown outcome: Connection terminated', branches: [] }),
    rollback: async () => ({}),
    reportCommittedLocal: () => undefined,
  }
  return { rpc: rpc as unknown as TmRpc, commits: () => commits }
}

function handle(): TransactionHandle {
  const local = {
    prepareAll: async () => ({ ok: true, votes: [] }),
    commitPrepared: async () => [],
    rollbackAll: async () => undefined,
    abandonPrepared: async () => undefined,
  }
  return { gtrid: 'g', local, deadline: new Date(Date.now() + 60_000), pendingBegin: undefined, contactedTm: false } as unknown as TransactionHandle
}

const settings = { waitFor: 'applied', outcomeQueryAttempts: 4, defaultDeadlineMs: 1_000 } as const

describe('commit after a lost answer', () => {
  it('OUTCOME_UNKNOWN at the TM: OutcomeUnknownError after one question, no second Commit', async () => {
    const tm = tmSaying('TRANSACTION_STATE_OUTCOME_UNKNOWN')
    const error = await commitTransaction(tm.rpc, handle(), settings).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(OutcomeUnknownError)
    expect((error as Error).message).toMatch(/unknown outcome/)
    expect(tm.commits()).toBe(1)
  })

  it('HEURISTIC at the TM stays a heuristic outcome', async () => {
    const tm = tmSaying('TRANSACTION_STATE_HEURISTIC')
    await expect(commitTransaction(tm.rpc, handle(), settings)).rejects.toBeInstanceOf(HeuristicOutcomeError)
  })
})
