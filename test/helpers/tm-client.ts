// A thin promise wrapper over the generated TransactionManager client, for
// server tests that must see the raw wire (status codes, messages).
import * as grpc from '@grpc/grpc-js'
import { loadArbiterProto } from '../../proto/load.js'
import type { TransactionManagerClient } from '../../proto/gen/arbiter/v1/TransactionManager.js'
import type { AdminClient } from '../../proto/gen/arbiter/v1/Admin.js'

type Callback<Res> = (error: grpc.ServiceError | null, response?: Res) => void
type UnaryMethod<Req, Res> = (request: Req, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<Res>) => grpc.ClientUnaryCall

/** Every unary method of a generated client, as a promise-returning function (inferred from its last overload). */
export type Promised<C> = {
  [K in keyof C as K extends Capitalize<string & K> ? K : never]: C[K] extends (
    argument: infer Req,
    callback: grpc.requestCallback<infer Res>,
  ) => grpc.ClientUnaryCall
    ? (request: Req, metadata?: grpc.Metadata) => Promise<Res>
    : never
}

function promisify<C extends grpc.Client>(client: C, methods: readonly string[]): Promised<C> {
  const out: Record<string, unknown> = {}
  for (const name of methods) {
    const method = (client as unknown as Record<string, UnaryMethod<unknown, unknown>>)[name]!.bind(client)
    out[name] = (request: unknown, metadata = new grpc.Metadata()) =>
      new Promise((resolve, reject) => {
        method(request, metadata, { deadline: Date.now() + 60_000 }, (error, response) => (error ? reject(error) : resolve(response)))
      })
  }
  return out as Promised<C>
}

const TM_METHODS = ['Begin', 'Execute', 'ExecuteBatch', 'Enlist', 'Commit', 'CompleteLocalBranches', 'Rollback', 'GetTransaction', 'Run', 'ListMembers'] as const
const ADMIN_METHODS = ['ListTransactions', 'GetTransaction', 'ListInDoubt', 'RunRecovery', 'ResolveBranch', 'ListResources'] as const

export function tmClient(address: string): { tm: Promised<TransactionManagerClient>; close: () => void } {
  const { proto } = loadArbiterProto()
  const raw = new proto.arbiter.v1.TransactionManager(address, grpc.credentials.createInsecure())
  return { tm: promisify(raw, TM_METHODS), close: () => raw.close() }
}

export function adminClient(address: string): { admin: Promised<AdminClient>; close: () => void } {
  const { proto } = loadArbiterProto()
  const raw = new proto.arbiter.v1.Admin(address, grpc.credentials.createInsecure())
  return { admin: promisify(raw, ADMIN_METHODS), close: () => raw.close() }
}

/** The gRPC error a promise rejected with (fails the test when it resolved). */
export async function grpcError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise
  } catch (error) {
    return error as grpc.ServiceError
  }
  throw new Error('expected the call to fail, but it succeeded')
}
