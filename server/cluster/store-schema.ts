// The shared store's tables (log.store: postgres), created or migrated at
// start-up. Versioned: arbiter_schema holds the version the tables are at;
// each migration runs once, in order, in one transaction under an advisory
// lock, so nodes starting at once wait for each other instead of racing to
// create the same table. A store migrated by a newer Arbiter is refused:
// an older node cannot know what the newer tables promise.
import type pg from 'pg'
import { StoreError } from './store-error.js'

export const STORE_SCHEMA_VERSION = 5

/** pg_advisory_xact_lock key: "arbiter" in ASCII, so it is recognisable in pg_locks. */
const MIGRATION_LOCK = 0x61726269746572n

const MIGRATIONS: readonly (readonly string[])[] = [
  // 1: members with leases, transactions' outcomes, operators' resolutions.
  [
    `CREATE TABLE arbiter_nodes (
       node_id text PRIMARY KEY,
       -- Bumped by every join and every takeover: writes that the lease protects name the epoch they hold.
       epoch bigint NOT NULL,
       -- This run of the node (a random id): tells a restarted node from a second live one with its id.
       instance text NOT NULL,
       address text NOT NULL,
       -- Timed by the store's clock (now()), never by the nodes'.
       lease_expires_at timestamptz NOT NULL,
       renewed_at timestamptz NOT NULL,
       joined_at timestamptz NOT NULL,
       taken_over_by text,
       taken_over_at timestamptz,
       takeovers bigint NOT NULL DEFAULT 0
     )`,
    `CREATE TABLE arbiter_transactions (
       gtrid text PRIMARY KEY,
       -- The node that drives it: the one that decided it, or the one that took it over.
       owner text NOT NULL,
       -- commit: a decision; abort: presumed aborted by a node that took its owner over (no decision may follow);
       -- resolved: no decision, only operators' resolutions.
       outcome text NOT NULL CHECK (outcome IN ('commit', 'abort', 'resolved')),
       branches jsonb NOT NULL DEFAULT '[]',
       decided_ms bigint NOT NULL,
       epoch bigint NOT NULL,
       ended_at timestamptz
     )`,
    `CREATE INDEX arbiter_transactions_unfinished ON arbiter_transactions (owner) WHERE ended_at IS NULL`,
    `CREATE INDEX arbiter_transactions_ended ON arbiter_transactions (ended_at) WHERE ended_at IS NOT NULL`,
    `CREATE TABLE arbiter_resolutions (
       id bigserial PRIMARY KEY,
       gtrid text NOT NULL,
       record jsonb NOT NULL
     )`,
    `CREATE INDEX arbiter_resolutions_gtrid ON arbiter_resolutions (gtrid)`,
  ],
  // 2: the W3C traceparent of a traced decision (recovery and takeover spans link to it); NULL when untraced.
  [`ALTER TABLE arbiter_transactions ADD COLUMN trace text`],
  // 3: the resource names each node is configured with: a node takes over only a node whose resources it has
  // all (NULL: a node from before version 3, taken over as before).
  [`ALTER TABLE arbiter_nodes ADD COLUMN resources text[]`],
  // 4: when each node first joined this store (joined_at moves with every join), by the node's own clock, the
  // one its gtrids are named by. A branch its gtrid names from before then was never this store's to decide: it
  // is never presumed aborted from here (a node pointed at another store by mistake would otherwise roll back
  // what its real store holds committed). A node from before version 4 has been on this store as far as anyone
  // knows (0): its orphans are presumed aborted as before (found by review: its last join hid older ones for good).
  // And the store's own identity (storeIdOf), which a node's data folder records (store-marker.ts).
  [
    `ALTER TABLE arbiter_nodes ADD COLUMN first_joined_ms bigint`,
    `UPDATE arbiter_nodes SET first_joined_ms = 0`,
    `ALTER TABLE arbiter_schema ADD COLUMN store_id text`,
  ],
  // 5: where each node's resources reach (resource name → identity tag, ResourceRegistry.identityTag), as the
  // node knows them, kept current by its renewals: a node takes over only a node whose resources reach the same
  // servers as its own of the same name, or its undecided branches there would be left prepared for good (NULL, or
  // a name missing: not known, taken over as before).
  [`ALTER TABLE arbiter_nodes ADD COLUMN resource_tags jsonb`],
]

/**
 * The store's identity: a random id made once, at its first use by a node
 * of schema version 4 or later. Tells this store from another one a node's
 * log.url may name by mistake (store-marker.ts).
 */
export async function storeIdOf(client: pg.ClientBase, option: string): Promise<string> {
  try {
    await client.query("UPDATE arbiter_schema SET store_id = md5(random()::text || clock_timestamp()::text) WHERE store_id IS NULL")
    const row = (await client.query<{ store_id: string }>('SELECT store_id FROM arbiter_schema')).rows[0]
    if (row === undefined) throw new Error('arbiter_schema has no row')
    return row.store_id
  } catch (error) {
    throw StoreError.from(error, option, "reading the store's identity")
  }
}

/** Brings the store's tables to STORE_SCHEMA_VERSION; refuses a store of a newer version. */
export async function migrateStore(client: pg.ClientBase, option: string): Promise<{ from: number; to: number }> {
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()])
    await client.query('CREATE TABLE IF NOT EXISTS arbiter_schema (version integer NOT NULL)')
    const row = (await client.query<{ version: number }>('SELECT version FROM arbiter_schema')).rows[0]
    const from = row?.version ?? 0
    if (from > STORE_SCHEMA_VERSION) {
      throw new StoreError(
        `the store named by ${option} is at schema version ${from}, newer than this Arbiter's ${STORE_SCHEMA_VERSION}: ` +
          'a newer Arbiter migrated it; run that version (downgrading the store is not supported)',
        { option, exitCode: 2 },
      )
    }
    for (let v = from + 1; v <= STORE_SCHEMA_VERSION; v++) for (const sql of MIGRATIONS[v - 1]!) await client.query(sql)
    if (row === undefined) await client.query('INSERT INTO arbiter_schema (version) VALUES ($1)', [STORE_SCHEMA_VERSION])
    else if (from < STORE_SCHEMA_VERSION) await client.query('UPDATE arbiter_schema SET version = $1', [STORE_SCHEMA_VERSION])
    await client.query('COMMIT')
    return { from, to: STORE_SCHEMA_VERSION }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw StoreError.from(error, option, 'creating or migrating its tables')
  }
}
