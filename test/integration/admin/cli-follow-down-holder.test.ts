// `arbiter admin show|resolve` follows TM_WRONG_NODE to the node that holds
// the transaction. When the node asked says that holder's lease lapsed (it is
// probably down), and following it fails, the operator is told both: why it
// could not be reached, and what the node asked first knew. Found by hostile
// testing: only "UNAVAILABLE … ECONNREFUSED" was printed, and the node's
// explanation (not yet taken over: wait for a takeover, or start it again)
// was lost. The node here is a stand-in Admin server that answers as a
// cluster node does (server/admin/admin-context.ts wrongNode).
import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { wrongNode } from '../../../server/admin/admin-context.js'
import { toServiceError } from '../../../server/grpc/status.js'
import { createLogger } from '../../../server/logger.js'
import { runAdminCli } from './cli.js'

const GTRID = 'arbiter-x:01M98QVFZSE8BSMJM6VZKR9YVD'
let server: grpc.Server
let address: string

/** A server whose every Admin call is answered with `answer()`. */
function standIn(answer: () => grpc.StatusObject): grpc.Server {
  const s = new grpc.Server()
  const identity = (b: Buffer): Buffer => b
  const method = (name: string) => ({ path: `/arbiter.v1.Admin/${name}`, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity })
  s.addService(
    { GetTransaction: method('GetTransaction'), ResolveBranch: method('ResolveBranch') },
    { GetTransaction: (_call: unknown, done: grpc.sendUnaryData<Buffer>) => done(answer()), ResolveBranch: (_call: unknown, done: grpc.sendUnaryData<Buffer>) => done(answer()) },
  )
  return s
}

describe('the CLI following TM_WRONG_NODE to a holder that is down', () => {
  let live = false
  beforeAll(async () => {
    const logger = createLogger({ level: 'silent' })
    // The holder's address: a port nothing listens on.
    server = standIn(() => toServiceError(wrongNode(GTRID, { nodeId: 'arbiter-x', address: '127.0.0.1:1', live, ended: false }, 'show'), logger))
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))))
    address = `127.0.0.1:${port}`
  })
  afterAll(() => server?.forceShutdown())

  it('a lapsed holder: the follow-up failure and the first node\'s explanation are both printed', async () => {
    live = false
    const res = await runAdminCli(['--address', address, '--timeout', '3000', 'show', GTRID])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('asking it at 127.0.0.1:1')
    expect(res.stderr).toMatch(new RegExp(`; node ${address.replace(/\./g, '\\.')} said: .*its lease lapsed and it is not yet taken over: wait for a takeover`))
  })

  it('a live holder that cannot be reached: its own error, as before', async () => {
    live = true
    const res = await runAdminCli(['--address', address, '--timeout', '3000', 'show', GTRID])
    expect(res.code).toBe(1)
    expect(res.stderr).not.toContain('said:')
  })
})
