// The cluster's members as the shared store knows them: for clients
// (ListMembers: where each node is), for a node asked about a transaction
// another node holds (who holds it, and whether that node may still decide
// it), and for operators. Lease state is read with the store's clock.
import type pg from 'pg'
import { StoreError } from './store-error.js'

export interface Member {
  readonly nodeId: string
  /** cluster.advertiseAddress, else the address the node is bound to. */
  readonly address: string
  readonly epoch: number
  /** Its lease is live by the store's clock: it serves, and may still decide its transactions. */
  readonly live: boolean
  readonly leaseLeftMs: number
  /** Another node took this one's transactions over and it has not rejoined: its old epoch is fenced for good. */
  readonly takenOverBy?: string
}

/** A member as operators see it (arbiter admin nodes). */
export interface MemberDetails extends Member {
  /** Decided, not ended transactions it drives (its own and those it took over). */
  readonly unfinished: number
  readonly timesTakenOver: number
  /** When it was taken over (while takenOverBy is set). */
  readonly takenOverAtMs?: number
}

interface Row {
  node_id: string
  address: string
  epoch: string
  live: boolean
  lease_left_ms: number
  taken_over_by: string | null
  takeovers: string
  taken_over_ms: string | null
}

const SELECT = `SELECT node_id, address, epoch::text, lease_expires_at > now() AS live,
  GREATEST(0, floor(extract(epoch FROM lease_expires_at - now()) * 1000))::int AS lease_left_ms, taken_over_by,
  takeovers::text, (extract(epoch FROM taken_over_at) * 1000)::bigint::text AS taken_over_ms
  FROM arbiter_nodes`

export class ClusterMembers {
  constructor(
    private readonly pool: pg.Pool,
    /** The option that names the store, for messages. */
    private readonly option: string,
  ) {}

  /** Every node that ever joined, live or not, by node id. */
  async list(): Promise<Member[]> {
    return (await this.query(`${SELECT} ORDER BY node_id`, [])).map(toMember)
  }

  /** Every node with what operators need: its unfinished transactions and takeovers. */
  async details(): Promise<MemberDetails[]> {
    const rows = (await this.query(
      `SELECT n.*, COALESCE(t.unfinished, 0)::int AS unfinished FROM (${SELECT}) n
       LEFT JOIN (SELECT owner, count(*) AS unfinished FROM arbiter_transactions WHERE ended_at IS NULL AND outcome <> 'abort' GROUP BY owner) t
         ON t.owner = n.node_id
       ORDER BY n.node_id`,
      [],
    )) as (Row & { unfinished: number })[]
    return rows.map((row) => ({
      ...toMember(row),
      unfinished: row.unfinished,
      timesTakenOver: Number(row.takeovers),
      ...(row.taken_over_by !== null && row.taken_over_ms !== null && { takenOverAtMs: Number(row.taken_over_ms) }),
    }))
  }

  async get(nodeId: string): Promise<Member | undefined> {
    const [row] = await this.query(`${SELECT} WHERE node_id = $1`, [nodeId])
    return row && toMember(row)
  }

  private async query(sql: string, params: unknown[]): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, params)).rows
    } catch (error) {
      throw StoreError.from(error, this.option, 'reading the cluster members')
    }
  }
}

function toMember(row: Row): Member {
  return {
    nodeId: row.node_id,
    address: row.address,
    epoch: Number(row.epoch),
    live: row.live,
    leaseLeftMs: row.lease_left_ms,
    ...(row.taken_over_by !== null && { takenOverBy: row.taken_over_by }),
  }
}
