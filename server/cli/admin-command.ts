// `arbiter admin …`: the operator's CLI over the Admin gRPC service.
// Exit codes: 0 ok, 1 the call failed (stderr names the gRPC status),
// 2 usage error. Tables by default, `--json` for scripts. Plaintext, or TLS
// with --tls-ca (and --tls-cert/--tls-key for mutual TLS).
//
// Start-up time matters here (an operator in an incident runs dozens of
// these): this file loads only commander; the gRPC client, the proto and
// the table renderer are imported when a command runs, and nothing of the
// server (zod, pino, prom-client, database drivers) is ever loaded.
import { readFileSync } from 'node:fs'
import { createSecureContext } from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { InvalidArgumentError, Option, type Command, type CommanderError } from '@commander-js/extra-typings'
import type { TransactionState } from '../../proto/gen/arbiter/v1/TransactionState.js'
import type { AdminConnection } from './admin-client.js'
import type * as RenderModule from './render.js'
import type { Colors } from './render.js'
import type { CliTls } from './tls-diagnosis.js'

export const DEFAULT_ADDRESS = '127.0.0.1:50051'
const STATES = ['ACTIVE', 'PREPARING', 'COMMITTING', 'COMMITTED', 'ROLLING_BACK', 'ROLLED_BACK', 'HEURISTIC', 'OUTCOME_UNKNOWN'] as const

/** A usage error found after commander parsed the line (exit 2). */
class UsageError extends Error {}

type Render = typeof RenderModule

/** The TLS material the options name, read now; undefined for plaintext. */
function tlsOptions(g: { tlsCa?: string | undefined; tlsCert?: string | undefined; tlsKey?: string | undefined; tls?: boolean | undefined }): CliTls | undefined {
  if (!g.tlsCa && !g.tlsCert && !g.tlsKey && g.tls !== true) return undefined
  if (Boolean(g.tlsCert) !== Boolean(g.tlsKey)) throw new UsageError('--tls-cert and --tls-key go together (mutual TLS)')
  const read = (option: string, file: string | undefined): Buffer | undefined => {
    if (!file) return undefined
    try {
      return readFileSync(file)
    } catch (error) {
      throw new UsageError(`${option} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
    }
  }
  const tls = { ca: read('--tls-ca', g.tlsCa), cert: read('--tls-cert', g.tlsCert), key: read('--tls-key', g.tlsKey) }
  // What OpenSSL refuses (not PEM, a key that is not the certificate's) is a usage error here, not a crash later.
  if (tls.ca) checkPem(() => new X509Certificate(tls.ca!), `--tls-ca ${g.tlsCa}: expected a PEM CA certificate`)
  if (tls.cert && tls.key) {
    checkPem(() => createSecureContext({ cert: tls.cert }), `--tls-cert ${g.tlsCert}: expected a PEM certificate`)
    checkPem(() => createSecureContext({ key: tls.key }), `--tls-key ${g.tlsKey}: expected a PEM private key`)
    checkPem(() => createSecureContext({ cert: tls.cert, key: tls.key }), `--tls-key ${g.tlsKey}: expected the private key of --tls-cert ${g.tlsCert}`)
  }
  return tls
}

function checkPem(load: () => unknown, what: string): void {
  try {
    load()
  } catch (error) {
    const reason = (error as Error).message.replace(/^error:[0-9A-Fa-f]+:/, '')
    throw new UsageError(`${what} (${reason})`)
  }
}

/**
 * The token as a bearer token can carry it: surrounding blanks (a file read
 * with its line break) dropped, and none of what gRPC metadata refuses. The
 * value is never printed: gRPC's own error quoted the whole secret.
 */
function bearerToken(raw: string | undefined): string | undefined {
  const token = raw?.trim()
  if (!token) return undefined
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new UsageError('--token (or ARBITER_ADMIN_TOKEN) holds characters a bearer token cannot carry (a control character, a space or a non-ASCII one); its value is not printed')
  }
  return token
}

function parseState(value: string, previous: TransactionState[] = []): TransactionState[] {
  const out = [...previous]
  for (const raw of value.split(',')) {
    const s = raw.trim().toUpperCase().replace(/^TRANSACTION_STATE_/, '')
    if (!(STATES as readonly string[]).includes(s)) throw new InvalidArgumentError(`unknown state "${raw}" (one of ${STATES.join(', ')})`)
    out.push(`TRANSACTION_STATE_${s}` as TransactionState)
  }
  return out
}

function parseMs(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 2 ** 31 - 1) throw new InvalidArgumentError('a whole number of milliseconds from 1 to 2147483647')
  return Number(value)
}

function parseLabel(value: string): string {
  if (value.indexOf('=') <= 0) throw new InvalidArgumentError('"key=value"')
  return value
}

/** Adds `admin` and its subcommands to `program`. */
export function addAdminCommand(program: Command): void {
  const admin = program
    .command('admin')
    .description('inspect and resolve transactions on a running TM (the Admin gRPC service)')
    .addOption(new Option('-a, --address <host:port>', 'the TM to talk to').env('ARBITER_ADDRESS').default(DEFAULT_ADDRESS))
    .addOption(new Option('-t, --token <token>', 'a bearer token with the admin role').env('ARBITER_ADMIN_TOKEN'))
    .addOption(new Option('--tls-ca <file>', "TLS: PEM CA that signed the TM's certificate (tls.certFile)").env('ARBITER_TLS_CA'))
    .addOption(new Option('--tls-cert <file>', 'mutual TLS: PEM client certificate (chaining to the TM\'s tls.caFile)').env('ARBITER_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'mutual TLS: PEM private key of --tls-cert').env('ARBITER_TLS_KEY'))
    .option('--tls', "TLS with the system's CAs (implied by any --tls-* option)")
    .option('--json', 'print JSON for scripts instead of tables')
    .option('--no-color', 'no colours (also: NO_COLOR=1)')
    .option('--timeout <ms>', 'deadline of each call', parseMs, 30_000)
    .exitOverride((error: CommanderError) => {
      if (error.exitCode === 0) process.exit(0) // --help, --version
      process.exit(2)
    })

  /**
   * Runs one command against the TM with the global options, printing and
   * exiting as documented. With `follow`, a TM_WRONG_NODE answer (another
   * node of the cluster holds the transaction) is followed once: the same
   * command is sent to the node it names, with the same credentials.
   */
  const run = async (
    work: (conn: AdminConnection, out: { c: Colors; json: boolean; render: Render; connect: (address: string) => AdminConnection }) => Promise<string>,
    { follow = false }: { follow?: boolean } = {},
  ): Promise<void> => {
    const g = admin.opts()
    let tls: CliTls | undefined
    let token: string | undefined
    try {
      tls = tlsOptions(g)
      token = bearerToken(g.token)
    } catch (error) {
      process.stderr.write(`arbiter admin: ${(error as Error).message}\n`)
      process.exitCode = 2
      return
    }
    // grpc-js names the server by its IP for TLS, which Node warns about (DEP0123) on every call: noise for an operator.
    if (tls) process.noDeprecation = true
    const [{ connectAdmin, AdminCallError }, render] = await Promise.all([import('./admin-client.js'), import('./render.js')])
    const opened: AdminConnection[] = []
    const connect = (address: string): AdminConnection => {
      const conn = connectAdmin({ address, token, deadlineMs: g.timeout, tls })
      opened.push(conn)
      return conn
    }
    const out = { c: render.colors(g.color), json: g.json === true, render, connect }
    try {
      let text: string
      try {
        text = await work(connect(g.address), out)
      } catch (error) {
        const wrongNode = error instanceof AdminCallError && error.info?.reason === 'TM_WRONG_NODE' ? error.info.metadata : undefined
        if (!follow || !wrongNode?.address) throw error
        process.stderr.write(`arbiter admin: node ${wrongNode.node} holds it: asking it at ${wrongNode.address}\n`)
        try {
          text = await work(connect(wrongNode.address), out)
        } catch (followed) {
          // A holder whose lease lapsed is probably down: its own error (unreachable) hides why, which the node
          // asked first knew (found by hostile testing). Both are said.
          if (wrongNode.live !== 'false') throw followed
          throw new Error(`${messageOf(followed)}; node ${g.address} said: ${messageOf(error)}`, { cause: followed })
        }
      }
      process.stdout.write(`${text}\n`)
    } catch (error) {
      process.stderr.write(`arbiter admin: ${error instanceof Error ? error.message : String(error)}\n`)
      process.exitCode = error instanceof UsageError ? 2 : 1
    } finally {
      for (const conn of opened) conn.close()
    }
  }

  /**
   * A connection to another live member at the address it advertises,
   * checked to reach that member: two members given one advertised address
   * (a copied cluster.advertiseAddress) would otherwise have one node's
   * answer printed under the other's name.
   */
  const memberConnection = async (node: { nodeId: string; address: string }, connect: (address: string) => AdminConnection): Promise<AdminConnection> => {
    const conn = connect(node.address)
    const answered = (await conn.listNodes()).nodes.find((n) => n.thisNode)?.nodeId
    if (answered !== node.nodeId) {
      throw new Error(`the address ${node.address} that node ${node.nodeId} advertises is answered by ${answered ? `node ${answered}` : 'a node that does not say which it is'}: check cluster.advertiseAddress`)
    }
    return conn
  }
  const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

  admin
    .command('transactions')
    .description('list transactions (STUCK: in phase 2 longer than admin.stuckAfterMs; HEURISTIC: mixed outcome; OUTCOME_UNKNOWN: a one-phase commit lost its connection, check the data)')
    .option('-s, --state <state>', 'only this state; repeat or comma-separate for several', parseState)
    .option('--older-than <ms>', 'only transactions begun at least this long ago', parseMs)
    .option('-r, --resource <name>', 'only transactions with a branch on this resource')
    .option('-l, --label <key=value>', 'only transactions with this label', parseLabel)
    .option('--all-nodes', 'in a cluster: also those in progress on the other live nodes (each node asked in turn)')
    .action((opts) =>
      run(async (conn, { c, json, render, connect }) => {
        const listAll = async (from: AdminConnection) => {
          const all = []
          let pageToken = ''
          do {
            const page = await from.listTransactions({
              states: opts.state ?? [],
              olderThanMs: opts.olderThan ?? 0,
              resource: opts.resource ?? '',
              label: opts.label ?? '',
              pageSize: 500,
              pageToken,
            })
            all.push(...page.transactions)
            pageToken = page.nextPageToken
          } while (pageToken)
          return all
        }
        let all = await listAll(conn)
        if (opts.allNodes) {
          // Each node lists what it holds, and every node's decided ones from the store: the holder's own row wins.
          const byGtrid = new Map(all.map((t) => [t.transaction?.gtrid ?? '', t]))
          const { nodes } = await conn.listNodes()
          // A node that does not answer is named, and the others' lists are still printed (exit 1).
          const unanswered: { node: string; address: string; error: string }[] = []
          for (const node of nodes.filter((n) => n.live && !n.thisNode)) {
            let listed
            try {
              listed = await listAll(await memberConnection(node, connect))
            } catch (error) {
              unanswered.push({ node: node.nodeId, address: node.address, error: messageOf(error) })
              continue
            }
            for (const t of listed) {
              const gtrid = t.transaction?.gtrid ?? ''
              if (!byGtrid.has(gtrid) || t.node === node.nodeId) byGtrid.set(gtrid, t)
            }
          }
          all = [...byGtrid.values()].sort((a, b) => Number(a.transaction?.createdAtUnixMs ?? 0) - Number(b.transaction?.createdAtUnixMs ?? 0))
          if (unanswered.length > 0) {
            process.exitCode = 1
            if (json) return render.toJson({ transactions: all, unanswered })
            const notes = unanswered.map((u) => c.red(`node ${u.node} (${u.address}) did not answer: ${u.error}`))
            return [render.renderTransactions(c, all), ...notes].join('\n')
          }
        }
        return json ? render.toJson({ transactions: all }) : render.renderTransactions(c, all)
      }),
    )

  admin
    .command('show')
    .description('one transaction: branches, states, attempts, last error')
    .argument('<gtrid>')
    .action((gtrid) =>
      run(async (conn, { c, json, render }) => {
        const tx = await conn.getTransaction(gtrid)
        return json ? render.toJson(tx) : render.renderTransaction(c, tx)
      }, { follow: true }),
    )

  admin
    .command('in-doubt')
    .description('prepared branches on the resources now, with what the log knows and what recovery will do')
    .option('-r, --resource <name>', 'only this resource')
    .action((opts) =>
      run(async (conn, { c, json, render }) => {
        const res = await conn.listInDoubt(opts.resource ?? '')
        return json ? render.toJson(res) : render.renderInDoubt(c, res)
      }),
    )

  admin
    .command('recover')
    .description("run a recovery pass now (on the node asked: the transactions it holds)")
    .option('-r, --resource <name>', 'only this resource')
    .option('--all-nodes', "in a cluster: on every live node, one after another (each finishes what it holds)")
    .action((opts) =>
      run(async (conn, { c, json, render, connect }) => {
        if (!opts.allNodes) {
          const res = await conn.runRecovery(opts.resource ?? '')
          return json ? render.toJson(res) : render.renderSteps(c, res.steps, res.unreachable)
        }
        const { nodes } = await conn.listNodes()
        // Every live node is asked, one failing or not: each result (or error) is printed under its node (exit 1 if any failed).
        const results: ({ node: string; address: string } & ({ error: string } | Awaited<ReturnType<AdminConnection['runRecovery']>>))[] = []
        for (const node of nodes.filter((n) => n.live)) {
          try {
            const res = await (node.thisNode ? conn : await memberConnection(node, connect)).runRecovery(opts.resource ?? '')
            results.push({ node: node.nodeId, address: node.address, ...res })
          } catch (error) {
            process.exitCode = 1
            results.push({ node: node.nodeId, address: node.address, error: messageOf(error) })
          }
        }
        if (json) return render.toJson({ nodes: results })
        return results
          .map((r) => `${c.bold(`node ${r.node}`)} (${r.address})\n${'error' in r ? c.red(`failed: ${r.error}`) : render.renderSteps(c, r.steps, r.unreachable)}`)
          .join('\n')
      }),
    )

  admin
    .command('resolve')
    .description('commit or roll back a prepared branch by hand, or abandon one whose server is gone (logged first, with who and why)')
    .option('-g, --gtrid <gtrid>', 'every prepared branch of this transaction')
    .option('-r, --resource <name>', 'the resource of the branch (with --xid)')
    .option('-x, --xid <xid>', 'the branch, as in-doubt prints it: "gtrid,bqual,formatId"')
    .option('--commit', 'commit it')
    .option('--rollback', 'roll it back')
    .option('--abandon', 'give up a decided branch whose server is gone for good (with --force; the outcome is then HEURISTIC)')
    .requiredOption('--reason <text>', 'why: goes into the audit record')
    .option('--force', 'contradict the log (the outcome is then HEURISTIC)')
    .action((opts) =>
      run(async (conn, { c, json, render }) => {
        if ([opts.commit, opts.rollback, opts.abandon].filter((o) => o === true).length !== 1) throw new UsageError('give exactly one of --commit, --rollback or --abandon')
        if (!opts.gtrid && !opts.xid) throw new UsageError('give --gtrid, or --resource with --xid')
        if (opts.xid && !opts.resource) throw new UsageError('--xid needs --resource')
        if (opts.reason.trim() === '') throw new UsageError('--reason must say why')
        let xid
        if (opts.xid) {
          const { parseXid } = await import('./xid-text.js')
          try {
            xid = parseXid(opts.xid)
          } catch (error) {
            throw new UsageError((error as Error).message)
          }
        }
        const res = await conn.resolveBranch({
          gtrid: opts.gtrid ?? '',
          resource: opts.resource ?? '',
          xid: xid ?? null,
          resolution: opts.commit ? 'RESOLUTION_COMMIT' : opts.abandon ? 'RESOLUTION_ABANDON' : 'RESOLUTION_ROLLBACK',
          reason: opts.reason,
          force: opts.force === true,
        })
        if (json) return render.toJson(res)
        const table = render.renderSteps(c, res.steps)
        return res.heuristic ? `${table}\n${c.red(opts.abandon ? 'HEURISTIC: the branch is given up unfinished; the transaction is now HEURISTIC' : 'HEURISTIC: this resolution contradicts the log; the transaction is now HEURISTIC')}` : table
      }, { follow: true }),
    )

  admin
    .command('nodes')
    .description("the cluster's nodes: address, lease left, epoch, unfinished transactions each drives, takeovers")
    .action(() =>
      run(async (conn, { c, json, render }) => {
        const res = await conn.listNodes()
        return json ? render.toJson(res) : render.renderNodes(c, res)
      }),
    )

  admin
    .command('resources')
    .description('the configured resources and their health')
    .action(() =>
      run(async (conn, { c, json, render }) => {
        const res = await conn.listResources()
        return json ? render.toJson(res) : render.renderResources(c, res)
      }),
    )
}
