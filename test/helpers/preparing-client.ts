// The client process of the crash and lock-holding tests
// (test/fixtures/client/prepare-then-die.ts): it enlists a pg and a mysql2
// connection, writes on both, and prints PREPARED once both local branches
// are prepared; the test then kills, stops or waits on it.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestDatabases } from './databases.js'
import type { Coordinator } from '../../server/coordinator/coordinator.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const SCRIPT = join(REPO, 'test/fixtures/client/prepare-then-die.ts')

export interface PreparingClientOptions {
  readonly address: string
  readonly dbs: Pick<TestDatabases, 'pgUrl' | 'mysqlUrl'>
  readonly id: number
  /** 'hang': never sends its Commit; 'go': commits at once. */
  readonly mode: 'hang' | 'go'
  readonly timeoutMs: number
  /** An empty transaction first, so the client names the next one itself. */
  readonly warm?: boolean
  readonly env?: Record<string, string>
}

/** Starts the client; resolves with its gtrid once both its branches are prepared. */
export async function preparingClient(o: PreparingClientOptions): Promise<{ child: ChildProcess; gtrid: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    cwd: REPO,
    env: {
      ...process.env,
      ARBITER_ADDRESS: o.address,
      PG_URL: o.dbs.pgUrl,
      MYSQL_URL: o.dbs.mysqlUrl,
      ACCOUNT_ID: String(o.id),
      MODE: o.mode,
      TIMEOUT_MS: String(o.timeoutMs),
      WARM: o.warm ? '1' : '0',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const gtrid = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client did not prepare in 20 s:\n${output}`)), 20_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /GTRID (\S+)\n[\s\S]*PREPARED\n/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`client exited (${code ?? signal}) before preparing:\n${output}`))
    })
  })
  return { child, gtrid }
}

/** SIGKILLs the client (woken first if stopped); resolves once it is gone. */
export async function killClient(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGCONT')
  child.kill('SIGKILL')
  await exited
}

/**
 * The Commit of the preparing client's transaction (its two local branches
 * L1 on 'pg' and L2 on 'maria'), sent straight to the coordinator, as if it
 * arrived late from a client that was only slow.
 */
export function lateCommit(coordinator: Coordinator, gtrid: string): Promise<unknown> {
  return coordinator.commit(
    gtrid,
    [
      { bqual: Buffer.from('L1'), readOnly: false, resource: 'pg' },
      { bqual: Buffer.from('L2'), readOnly: false, resource: 'maria' },
    ],
    'applied',
    { timeoutMs: 60_000, tmInstance: coordinator.instance },
  )
}
