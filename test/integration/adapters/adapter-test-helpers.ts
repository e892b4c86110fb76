// Small helpers shared by the adapter integration tests (PostgreSQL, MariaDB, Redis).
import net from 'node:net'
import { expect } from 'vitest'
import { AdapterError } from '../../../adapters/types.js'
import type { ResourceAdapter, SqlValue, Xid } from '../../../adapters/types.js'
import { makeXid, newGtrid } from '../../../adapters/xid/xid.js'
import type { TestServer } from '../../harness/index.js'

export const int = (v: number): SqlValue => ({ kind: 'int', value: BigInt(v) })
export const str = (v: string): SqlValue => ({ kind: 'string', value: v })

/** A fresh XID whose gtrid names `nodeId` (so a test's branches are recognisable on the server). */
export const newXid = (nodeId: string, bqual = 'b1'): Xid => makeXid(newGtrid(nodeId), bqual)

/** Awaits `p`, which must reject with an AdapterError of class `cls`; returns that error. */
export async function expectAdapterError(p: Promise<unknown>, cls: string): Promise<AdapterError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(AdapterError)
  expect((err as AdapterError).errorClass).toBe(cls)
  return err as AdapterError
}

/** Until `fn` resolves (the server notices a closed connection asynchronously). */
export async function eventually<T>(fn: () => Promise<T>, ms = 5000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (Date.now() > end) throw err
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/**
 * An adapter pointed at a port nobody listens on fails init() and commit()
 * as 'retryable' within 5 s and reports itself unreachable.
 */
export async function expectClosedPortRetryable(makeAdapter: (port: number) => ResourceAdapter): Promise<void> {
  const srv = net.createServer()
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise<void>((res) => srv.close(() => res()))
  const dead = makeAdapter(port)
  const t0 = Date.now()
  await expectAdapterError(dead.init(), 'retryable')
  await expectAdapterError(dead.commit(newXid('closedport')), 'retryable')
  expect(Date.now() - t0).toBeLessThan(5000)
  expect((await dead.health()).reachable).toBe(false)
  await dead.close()
}

/**
 * Kills `srv`; then phase 2 of the prepared `x` and a new begin() fail as
 * 'retryable' within 10 s, and health() reports the server unreachable.
 */
export async function expectKilledServerRetryable(srv: TestServer, adapter: ResourceAdapter, x: Xid, fresh: Xid): Promise<void> {
  await srv.kill()
  const t0 = Date.now()
  await expectAdapterError(adapter.commit(x), 'retryable')
  await expectAdapterError(adapter.begin(fresh), 'retryable')
  expect(Date.now() - t0).toBeLessThan(10_000)
  expect((await adapter.health()).reachable).toBe(false)
}
