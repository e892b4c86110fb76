// arbiter.v1.TransactionManager: validates each request and hands it to the coordinator.
import type { Coordinator } from '../coordinator/coordinator.js'
import { TmError } from '../../proto/errors.js'
import type { TransactionManagerHandlers } from '../../proto/gen/arbiter/v1/TransactionManager.js'
import type { Statement__Output } from '../../proto/gen/arbiter/v1/Statement.js'
import type { WaitFor__Output } from '../../proto/gen/arbiter/v1/WaitFor.js'
import type { Logger } from '../logger.js'
import { toWireTransaction, toWireXid } from './transaction-view.js'
import { unary } from './unary.js'
import { fromProtoValue, toResultSet } from './values.js'

export function transactionManagerHandlers(coordinator: Coordinator, logger: Logger): TransactionManagerHandlers {
  const execute = async (gtrid: string, statement: Statement__Output | null) => {
    if (!statement) throw new TmError('TM_INVALID_ARGUMENT', 'statement is required')
    if (!statement.resource) throw new TmError('TM_INVALID_ARGUMENT', 'statement.resource is required')
    const params = statement.params.map((p, i) => fromProtoValue(p, i + 1))
    return toResultSet(await coordinator.execute(gtrid, statement.resource, statement.sql, params))
  }

  return {
    Begin: unary(logger, 'Begin', (req) => {
      const tx = coordinator.begin({ timeoutMs: req.timeoutMs, labels: req.labels })
      return { gtrid: tx.gtrid, deadlineUnixMs: String(tx.deadline) }
    }),

    Execute: unary(logger, 'Execute', async (req) => ({ result: await execute(req.gtrid, req.statement) })),

    Enlist: unary(logger, 'Enlist', (req) => {
      if (!req.resource) throw new TmError('TM_INVALID_ARGUMENT', 'resource is required')
      return { xid: toWireXid(coordinator.enlist(req.gtrid, req.resource)) }
    }),

    Commit: unary(logger, 'Commit', async (req) => {
      const votes = req.localVotes.map((v) => ({ bqual: v.bqual, readOnly: v.readOnly, ...(v.resource && { resource: v.resource }) }))
      const outcome = await coordinator.commit(req.gtrid, votes, waitFor(req.waitFor))
      return { transaction: toWireTransaction(outcome.tx), commitLocally: outcome.commitLocally.map(toWireXid) }
    }),

    CompleteLocalBranches: unary(logger, 'CompleteLocalBranches', (req) => {
      coordinator.completeLocal(req.gtrid, req.committedBquals)
      return {}
    }),

    Rollback: unary(logger, 'Rollback', async (req) => ({
      transaction: toWireTransaction(await coordinator.rollback(req.gtrid, req.reason)),
    })),

    GetTransaction: unary(logger, 'GetTransaction', (req) => toWireTransaction(coordinator.get(req.gtrid))),

    Run: unary(logger, 'Run', async (req) => {
      if (req.statements.length === 0) throw new TmError('TM_INVALID_ARGUMENT', 'statements is empty')
      const tx = coordinator.begin({ timeoutMs: req.timeoutMs, labels: req.labels })
      const results = []
      try {
        for (const statement of req.statements) results.push(await execute(tx.gtrid, statement))
      } catch (error) {
        if (tx.state === 'ACTIVE') await coordinator.rollback(tx.gtrid, 'a statement of Run was refused')
        throw error
      }
      const outcome = await coordinator.commit(tx.gtrid, [], waitFor(req.waitFor))
      return { transaction: toWireTransaction(outcome.tx), results }
    }),
  }
}

function waitFor(value: WaitFor__Output): 'applied' | 'durable' {
  return value === 'WAIT_FOR_DURABLE' ? 'durable' : 'applied'
}
