// The CLI's connection to a TM's Admin service: one promise per RPC, the
// bearer token on every call, a deadline, plaintext or TLS (mutual TLS with
// a client certificate), and failures as AdminCallError naming the gRPC
// status, with the reason when TLS is why the TM could not be reached.
import * as grpc from '@grpc/grpc-js'
import { loadAdminProto } from '../../proto/load.js'
import type { AdminClient } from '../../proto/gen/arbiter/v1/Admin.js'
import type { ListTransactionsRequest } from '../../proto/gen/arbiter/v1/ListTransactionsRequest.js'
import type { ListTransactionsResponse__Output } from '../../proto/gen/arbiter/v1/ListTransactionsResponse.js'
import type { Transaction__Output } from '../../proto/gen/arbiter/v1/Transaction.js'
import type { ListInDoubtResponse__Output } from '../../proto/gen/arbiter/v1/ListInDoubtResponse.js'
import type { RunRecoveryResponse__Output } from '../../proto/gen/arbiter/v1/RunRecoveryResponse.js'
import type { ResolveBranchRequest } from '../../proto/gen/arbiter/v1/ResolveBranchRequest.js'
import type { ResolveBranchResponse__Output } from '../../proto/gen/arbiter/v1/ResolveBranchResponse.js'
import type { ListResourcesResponse__Output } from '../../proto/gen/arbiter/v1/ListResourcesResponse.js'
import type { ListNodesResponse__Output } from '../../proto/gen/arbiter/v1/ListNodesResponse.js'
import { fromGrpcError, transportDetails } from '../../client/errors.js'
import { diagnoseUnavailable, type CliTls } from './tls-diagnosis.js'

export class AdminCallError extends Error {
  override readonly name = 'AdminCallError'
  constructor(
    readonly method: string,
    readonly code: grpc.status,
    details: string,
    /** Why, when the CLI could tell more than grpc-js (a TLS mismatch). */
    readonly diagnosis?: string,
    /** The TM's catalog code and its metadata (google.rpc.ErrorInfo), when it sent them: TM_WRONG_NODE names the node to ask. */
    readonly info?: { readonly reason: string; readonly metadata: Readonly<Record<string, string>> },
  ) {
    super(`${method} failed: ${grpc.status[code] ?? 'UNKNOWN'} (${code}): ${diagnosis === undefined ? details : `${diagnosis} (${details})`}`)
  }
}

export interface AdminConnection {
  listTransactions(req: ListTransactionsRequest): Promise<ListTransactionsResponse__Output>
  getTransaction(gtrid: string): Promise<Transaction__Output>
  listInDoubt(resource: string): Promise<ListInDoubtResponse__Output>
  runRecovery(resource: string): Promise<RunRecoveryResponse__Output>
  resolveBranch(req: ResolveBranchRequest): Promise<ResolveBranchResponse__Output>
  listResources(): Promise<ListResourcesResponse__Output>
  listNodes(): Promise<ListNodesResponse__Output>
  close(): void
}

type Callback<Res> = (error: grpc.ServiceError | null, response?: Res) => void

export interface AdminConnectOptions {
  readonly address: string
  readonly token: string | undefined
  readonly deadlineMs: number
  /** TLS when set (the TM's CA; a client certificate and key for mutual TLS); plaintext when not. */
  readonly tls?: CliTls | undefined
}

export function connectAdmin(options: AdminConnectOptions): AdminConnection {
  const proto = loadAdminProto()
  const { tls } = options
  const credentials = tls ? grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null) : grpc.credentials.createInsecure()
  const client: AdminClient = new proto.arbiter.v1.Admin(options.address, credentials)
  const call = <Req, Res>(
    method: string,
    fn: (req: Req, metadata: grpc.Metadata, callOptions: grpc.CallOptions, callback: Callback<Res>) => unknown,
    req: Req,
  ): Promise<Res> => {
    const metadata = new grpc.Metadata()
    if (options.token) metadata.set('authorization', `Bearer ${options.token}`)
    return new Promise((resolve, reject) => {
      fn(req, metadata, { deadline: Date.now() + options.deadlineMs }, (error: grpc.ServiceError | null, response?: Res) => {
        if (!error) return resolve(response!)
        const details = transportDetails(error.details || error.message)
        if (error.code !== grpc.status.UNAVAILABLE) {
          const known = fromGrpcError(error)
          return reject(new AdminCallError(method, error.code, details, undefined, { reason: known.code, metadata: known.metadata }))
        }
        // "Failed to connect" says nothing of TLS: ask one handshake of our own why.
        diagnoseUnavailable(options.address, tls).then(
          (diagnosis) => reject(new AdminCallError(method, error.code, details, diagnosis)),
          () => reject(new AdminCallError(method, error.code, details)),
        )
      })
    })
  }
  return {
    listTransactions: (req) => call('ListTransactions', client.ListTransactions.bind(client), req),
    getTransaction: (gtrid) => call('GetTransaction', client.GetTransaction.bind(client), { gtrid }),
    listInDoubt: (resource) => call('ListInDoubt', client.ListInDoubt.bind(client), { resource }),
    runRecovery: (resource) => call('RunRecovery', client.RunRecovery.bind(client), { resource }),
    resolveBranch: (req) => call('ResolveBranch', client.ResolveBranch.bind(client), req),
    listResources: () => call('ListResources', client.ListResources.bind(client), {}),
    listNodes: () => call('ListNodes', client.ListNodes.bind(client), {}),
    close: () => client.close(),
  }
}
