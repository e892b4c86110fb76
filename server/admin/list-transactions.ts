// Admin.ListTransactions and Admin.GetTransaction: the coordinator's
// transactions (plus unfinished ones only the log knows), filtered, paged,
// and marked stuck when phase 2 has run longer than the threshold.
import { parseGtrid } from '../../adapters/xid/xid.js'
import { TmError } from '../../proto/errors.js'
import type { ListTransactionsRequest__Output } from '../../proto/gen/arbiter/v1/ListTransactionsRequest.js'
import type { ListTransactionsResponse } from '../../proto/gen/arbiter/v1/ListTransactionsResponse.js'
import type { Transaction as WireTransaction } from '../../proto/gen/arbiter/v1/Transaction.js'
import { enumField } from '../grpc/enum-fields.js'
import { toWireTransaction } from '../grpc/transaction-view.js'
import { TransactionState } from '../../proto/gen/arbiter/v1/TransactionState.js'
import type { HeldElsewhere, Holder } from '../cluster/holders.js'
import type { LoggedTransaction } from '../log/decision-log.js'
import { storeUnavailable, wrongNode, type AdminContext, type ClusterView } from './admin-context.js'
import { loggedTransactionView, withResolutions } from './logged-transaction-view.js'

export const DEFAULT_PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 1000

interface Row {
  readonly wire: WireTransaction
  readonly createdAt: number
  readonly stuck: boolean
  /** The node that holds it. */
  readonly node: string
}

/** A page token: the sort key of the last row returned, opaque to callers. */
function encodeToken(row: Row): string {
  return Buffer.from(JSON.stringify([row.createdAt, row.wire.gtrid])).toString('base64url')
}

function decodeToken(token: string): [number, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') return [value[0], value[1]]
  } catch {
    // fall through
  }
  throw new TmError('TM_INVALID_ARGUMENT', 'page_token is not one this server handed out')
}

function parseLabel(label: string): [string, string] | undefined {
  if (label === '') return undefined
  const eq = label.indexOf('=')
  if (eq <= 0) throw new TmError('TM_INVALID_ARGUMENT', `label filter must be "key=value", got "${label}"`)
  return [label.slice(0, eq), label.slice(eq + 1)]
}

/** This node's transactions and what its log holds unfinished; in a cluster, every other node's unfinished ones from the store. */
async function rows(ctx: AdminContext, now: number): Promise<Row[]> {
  const me = ctx.config.nodeId
  const out: Row[] = []
  const seen = new Set<string>()
  for (const tx of ctx.coordinator.list()) {
    seen.add(tx.gtrid)
    // In COMMITTING since the decision was logged (an adopted transaction's record is older than the object).
    const decidedAt = ctx.log.get(tx.gtrid)?.decision?.at ?? tx.updatedAt
    const stuck = tx.state === 'COMMITTING' && now - decidedAt > ctx.config.stuckAfterMs
    out.push({ wire: withResolutions(toWireTransaction(tx), ctx.log.get(tx.gtrid)), createdAt: tx.beganAt, stuck, node: me })
  }
  const logged = (transaction: LoggedTransaction, node: string): void => {
    if (seen.has(transaction.gtrid)) return
    seen.add(transaction.gtrid)
    const wire = loggedTransactionView(transaction)
    const stuck = wire.state === 'TRANSACTION_STATE_COMMITTING' && now - (transaction.decision?.at ?? now) > ctx.config.stuckAfterMs
    out.push({ wire, createdAt: Number(wire.createdAtUnixMs), stuck, node })
  }
  for (const transaction of ctx.log.unfinished()) logged(transaction, me)
  for (const transaction of ctx.log.heuristicEnded()) logged(transaction, me)
  if (ctx.cluster) {
    let elsewhere: HeldElsewhere[]
    try {
      elsewhere = await ctx.cluster.unfinishedElsewhere()
    } catch (error) {
      throw storeUnavailable("the other nodes' transactions", error)
    }
    for (const { owner, transaction } of elsewhere) logged(transaction, owner)
  }
  return out
}

export async function listTransactions(ctx: AdminContext, req: ListTransactionsRequest__Output): Promise<ListTransactionsResponse> {
  const now = Date.now()
  // A state the proto does not know (or UNSPECIFIED, which no transaction has) would match nothing: bad input.
  const states = new Set<string>(req.states.map((s, i) => enumField(TransactionState, s, `states[${i}]`, { allowUnspecified: false })))
  const olderThan = Number(req.olderThanMs)
  const label = parseLabel(req.label)
  if (req.resource && !ctx.resources.has(req.resource)) {
    throw new TmError('TM_INVALID_ARGUMENT', `unknown resource "${req.resource}" (configured: ${ctx.resources.names().join(', ') || 'none'})`)
  }
  const pageSize = req.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(req.pageSize, MAX_PAGE_SIZE)
  const after = req.pageToken ? decodeToken(req.pageToken) : undefined

  const matching = (await rows(ctx, now))
    .filter((r) => states.size === 0 || states.has(String(r.wire.state)))
    .filter((r) => olderThan <= 0 || now - r.createdAt >= olderThan)
    .filter((r) => !req.resource || (r.wire.branches ?? []).some((b) => b.resource === req.resource))
    .filter((r) => !label || r.wire.labels?.[label[0]] === label[1])
    .sort((a, b) => a.createdAt - b.createdAt || (a.wire.gtrid! < b.wire.gtrid! ? -1 : a.wire.gtrid! > b.wire.gtrid! ? 1 : 0))
  const start = after
    ? matching.findIndex((r) => r.createdAt > after[0] || (r.createdAt === after[0] && r.wire.gtrid! > after[1]))
    : 0
  const page = start < 0 ? [] : matching.slice(start, start + pageSize)
  const more = start >= 0 && start + pageSize < matching.length
  return {
    transactions: page.map((r) => ({ transaction: r.wire, stuck: r.stuck, node: r.node })),
    nextPageToken: more ? encodeToken(page[page.length - 1]!) : '',
  }
}

/**
 * The transaction in memory, else what the log remembers; in a cluster,
 * else what the shared store holds, or TM_WRONG_NODE for one another live
 * node may still be deciding (only it knows it). NOT_FOUND when nobody knows it.
 */
export async function getTransaction(ctx: AdminContext, gtrid: string): Promise<WireTransaction> {
  if (!gtrid) throw new TmError('TM_INVALID_ARGUMENT', 'gtrid is required')
  const tx = ctx.coordinator.list().find((t) => t.gtrid === gtrid)
  if (tx) return withResolutions(toWireTransaction(tx), ctx.log.get(gtrid))
  try {
    parseGtrid(gtrid)
  } catch (error) {
    throw new TmError('TM_INVALID_ARGUMENT', `malformed gtrid "${gtrid.slice(0, 80)}": ${(error as Error).message}`)
  }
  const logged = ctx.log.get(gtrid)
  if (logged) return loggedTransactionView(logged)
  if (ctx.cluster) {
    const elsewhere = await heldElsewhere(ctx, ctx.cluster, gtrid)
    if (elsewhere) return elsewhere
  }
  throw new TmError('TM_TX_NOT_FOUND', `unknown transaction ${gtrid}: never begun here, or forgotten (presumed aborted)`)
}

/** Another node's transaction: what the store holds of it, or TM_WRONG_NODE while its holder may still decide it. */
async function heldElsewhere(ctx: AdminContext, cluster: ClusterView, gtrid: string): Promise<WireTransaction | undefined> {
  let holder: Holder | undefined
  let stored: LoggedTransaction | undefined
  try {
    // The holder first, the row after: once a takeover fenced the holder, a decision it made is in the store when read.
    holder = (await cluster.holders([gtrid])).get(gtrid)
    stored = await cluster.lookUp(gtrid)
  } catch (error) {
    throw storeUnavailable(`transaction ${gtrid}`, error)
  }
  if (stored) return loggedTransactionView(stored)
  if (holder && holder.nodeId !== ctx.config.nodeId && holder.outcome === undefined) throw wrongNode(gtrid, holder, 'transaction')
  return undefined
}
