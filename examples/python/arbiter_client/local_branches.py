"""Local branches: the application's own psycopg2 / PyMySQL connections,
taking part in an Arbiter transaction (the TypeScript client's tx.enlist;
its session-side steps are adapters/postgres/postgres-local-branch.ts and
adapters/mysql/mysql-local-branch.ts).

The XID is (format_id, gtrid, bqual): from Enlist, or named here as
(0x41524254, the gtrid, "L<n>"). Its spelling on each server must be exactly
Arbiter's, or the TM can neither finish nor recover the branch:

- PostgreSQL gid: f"{format_id}_{base64(gtrid)}_{base64(bqual)}" (standard
  alphabet, with padding);
- MySQL/MariaDB: X'<gtrid hex>',X'<bqual hex>',<format_id>.

Phase 2 runs on the connection that prepared the branch: MariaDB keeps a
prepared branch attached to its session (XA COMMIT from elsewhere gives
XAER_NOTA, 1397, while it lives). A branch this side cannot finish has its
connection closed (never reset, never handed back to a pool): the TM then
finishes it.
"""

import base64
from typing import Dict, NamedTuple, Optional

from .errors import IllegalStateError, InvalidArgumentError

ARBITER_FORMAT_ID = 0x41524254  # ASCII "ARBT"

# SQLSTATE / errno of failures where running the whole transaction again may help.
TRANSIENT = {"40001", "40P01", "55P03", "1213", "1205", "1614"}


class Xid(NamedTuple):
    format_id: int
    gtrid: bytes
    bqual: bytes


def pg_gid(xid: Xid) -> str:
    return f"{xid.format_id}_{base64.b64encode(xid.gtrid).decode()}_{base64.b64encode(xid.bqual).decode()}"


def mysql_xid(xid: Xid) -> str:
    return f"X'{xid.gtrid.hex()}',X'{xid.bqual.hex()}',{xid.format_id}"


class VoteNo(Exception):
    """The branch could not be prepared: the whole transaction rolls back."""

    def __init__(self, reason: str, server_code: Optional[str] = None, escaped: bool = False):
        super().__init__(reason)
        self.server_code = server_code
        self.retryable = server_code in TRANSIENT
        # Begun at enlist, over by prepare: the application's own COMMIT or ROLLBACK ended it, and its writes may be committed.
        self.escaped = escaped


def _server_code(error: Exception) -> Optional[str]:
    pgcode = getattr(error, "pgcode", None)
    if pgcode:
        return pgcode
    args = getattr(error, "args", ())
    if args and isinstance(args[0], int):
        return str(args[0])
    return None


class LocalBranch:
    """One enlisted connection: start, prepare (the vote), commit or roll back on the same connection."""

    driver = ""

    def __init__(self, conn, resource: str, xid: Xid, self_named: bool):
        self.conn = conn
        self.resource = resource
        self.xid = xid
        # Named here (no Enlist call): its vote must carry the resource (LocalVote.resource).
        self.self_named = self_named
        # Where the connection is, as the TM spells its resource's identity (LocalVote.identity); "" not known.
        self.identity = ""
        # active | prepared | committed | rolled-back | failed | closed
        self.state = "starting"

    def close(self) -> None:
        """Ends the connection: a prepared branch detaches and the TM finishes it; an open one rolls back."""
        self.state = "closed"
        try:
            self.conn.close()
        except Exception:
            pass

    def _run(self, sql: str) -> object:
        raise NotImplementedError

    def _quietly(self, sql: str) -> None:
        """A cleanup step whose failure changes nothing (the branch is gone, or the connection is)."""
        try:
            self._run(sql)
        except Exception:
            pass


# The setting that marks a branch's own block (adapters/postgres/postgres-branch-ops.ts). SET LOCAL ends
# with the block, so a block the application began after ending the branch's (its own COMMIT or ROLLBACK,
# conn.commit() once it set autocommit = False) has not got it. A custom setting any role may set.
MARK = "arbiter.branch"

# In the error of a failed MARK_CHECK and nowhere else: no statement or trigger of the application's says it
# (a division by zero was told from a deferred trigger's by its code alone: found by review).
UNMARKED_TEXT = "arbiter: this block lost the branch mark"

# When the current block began, in whole microseconds, as exact digits under any TimeZone or DateStyle the
# application sets: the fallback for a block that lost its mark to the application's RESET ALL (found by
# hostile testing: told a mixed outcome when all had rolled back). A block begun after the branch's began later.
BLOCK_STARTED = "(extract(epoch from transaction_timestamp()) * 1000000)::bigint"

# The connection's server and database (adapters/postgres/postgres-branch-ops.ts readPgIdentity): the TM refuses
# the vote of a branch prepared elsewhere than its resource reaches. A statement of its own, sent while the
# connection is idle: a role that may not call pg_control_system() fails it, and no block of the branch is aborted.
IDENTITY_QUERY = "SELECT system_identifier::text, current_database() FROM pg_control_system()"

# A statement that fails (22P02, its text carrying UNMARKED_TEXT) unless the block is the branch's (its mark, or
# its start time): put before PREPARE or ROLLBACK in the same execute() (one simple query), it stops them when
# the block is not the branch's. Not constant, so the planner cannot fold it into an error up front.
# Parameters: the gid, then the block's start time (digits).
MARK_CHECK = (
    f"SELECT CASE WHEN current_setting('{MARK}', true) IS NOT DISTINCT FROM %s OR {BLOCK_STARTED} = %s::bigint THEN 1 "
    f"ELSE ('{UNMARKED_TEXT} ' || coalesce(current_setting('{MARK}', true), ''))::int END"
)


def _unmarked(error: Exception) -> bool:
    """A failure of MARK_CHECK's own: the server's code, and its sentinel in the message."""
    return _server_code(error) == "22P02" and UNMARKED_TEXT in str(error)


class PostgresBranch(LocalBranch):
    """psycopg2, with conn.autocommit = True (this code sends BEGIN itself)."""

    driver = "postgres"
    # When the branch's block began (BLOCK_STARTED, digits), read at start(); None: not known, the mark alone decides.
    _started: Optional[str] = None

    def _run(self, sql: str, params=None) -> str:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.statusmessage or ""

    def _status(self) -> int:
        return self.conn.info.transaction_status  # 0 idle, 2 in a block, 3 aborted block

    def start(self) -> None:
        if not self.conn.autocommit:
            raise ValueError("enlist a psycopg2 connection with autocommit = True: the branch's BEGIN is sent here")
        if self._status() != 0:
            raise ValueError("the connection is already in a transaction: enlist an idle one")
        # Marked, so a block the application ends and begins again is told from this one (prepare, rollback).
        # psycopg2 sends both statements as one simple query; the gid is quoted client-side.
        with self.conn.cursor() as cur:
            try:
                cur.execute(IDENTITY_QUERY)
                system_identifier, database = cur.fetchone()
                self.identity = f"postgres:{system_identifier}/{database}"
            except Exception:  # noqa: BLE001 - a role without the privilege: not told, not checked
                self.identity = ""
            cur.execute(f"BEGIN; SET LOCAL {MARK} = %s; SELECT {BLOCK_STARTED}::text", (pg_gid(self.xid),))
            self._started = cur.fetchone()[0]
        self.state = "active"

    def prepare(self) -> None:
        if self._status() == 3:
            self._quietly("ROLLBACK")
            self.state = "failed"
            raise VoteNo("the branch's transaction was aborted by an earlier error")
        if self._status() != 2:
            # Checked before any execute: with autocommit = False psycopg2 would BEGIN a new block first.
            self.state = "failed"
            raise VoteNo("the branch is not in a transaction block (ended by a statement on the enlisted connection)", escaped=self._status() == 0)
        gid = pg_gid(self.xid)
        try:
            # The mark check and PREPARE in one round trip: a block without the branch's mark (the application
            # committed the branch's and began another) fails the check, and the PREPARE behind it never runs.
            # The gid is a literal (a bind parameter is refused, 42601): psycopg2 quotes it client-side.
            tag = self._run(f"{MARK_CHECK}; PREPARE TRANSACTION %s", (gid, self._started, gid))
        except Exception as error:
            self.state = "failed"
            if self._status() != 0:
                self._quietly("ROLLBACK")
            if _unmarked(error):
                raise VoteNo(
                    "the branch's transaction block was ended by the application (COMMIT or ROLLBACK on its connection) "
                    "and another begun: nothing was prepared",
                    escaped=True,
                ) from error
            raise VoteNo(f"PREPARE TRANSACTION failed: {error}", _server_code(error)) from error
        # PostgreSQL answers PREPARE in an aborted block with the tag ROLLBACK and no error.
        if not tag.startswith("PREPARE"):
            self.state = "failed"
            raise VoteNo(f"the server did not prepare the branch (it answered {tag})")
        self.state = "prepared"

    def commit_prepared(self) -> None:
        self._run("COMMIT PREPARED %s", (pg_gid(self.xid),))
        self.state = "committed"

    def rollback(self) -> bool:
        escaped = False
        if self.state == "active":
            escaped = self._rollback_open()
        elif self.state in ("failed", "starting") and self._status() != 0:
            self._run("ROLLBACK")
        elif self.state == "prepared":
            self._run("ROLLBACK PREPARED %s", (pg_gid(self.xid),))
        self.state = "rolled-back"
        return escaped

    def _rollback_open(self) -> bool:
        """Rolls back the branch's open block; True when the application had ended it itself (escaped)."""
        status = self._status()
        if status == 0:
            return True  # begun at enlist, gone now: only the application's own COMMIT or ROLLBACK ends it
        if status == 3:
            self._run("ROLLBACK")  # in an aborted block nothing answers, the mark included
            return False
        try:
            # The check rides with the ROLLBACK: one round trip when the block is the branch's own.
            self._run(f"{MARK_CHECK}; ROLLBACK", (pg_gid(self.xid), self._started))
            return False
        except Exception as error:
            if not _unmarked(error):
                raise
        self._run("ROLLBACK")  # another block in the branch's place: end it too, the branch's ended before
        return True


class MysqlBranch(LocalBranch):
    """PyMySQL, with autocommit=True. Never reset or change user on it while it holds a branch."""

    driver = "mysql"

    def _run(self, sql: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql)

    def start(self) -> None:
        self._run(f"XA START {mysql_xid(self.xid)}")
        self.state = "active"

    def prepare(self) -> None:
        lit = mysql_xid(self.xid)
        step = "XA END"
        try:
            self._run(f"XA END {lit}")
            step = "XA PREPARE"
            self._run(f"XA PREPARE {lit}")
        except Exception as error:
            self.state = "failed"
            if step == "XA END":
                self._quietly(f"XA END {lit}")
            self._quietly(f"XA ROLLBACK {lit}")
            raise VoteNo(f"{step} failed: {error}", _server_code(error)) from error
        self.state = "prepared"

    def commit_prepared(self) -> None:
        # On the preparing connection: MariaDB answers XAER_NOTA (1397) from any other while this one lives.
        self._run(f"XA COMMIT {mysql_xid(self.xid)}")
        self.state = "committed"

    def rollback(self) -> bool:
        """Never escaped (False): MariaDB refuses COMMIT and ROLLBACK inside an XA branch (1399), so the
        application's own cannot end it."""
        lit = mysql_xid(self.xid)
        if self.state == "failed":  # a failed start or prepare left nothing behind (prepare rolled it back)
            self.state = "rolled-back"
            return False
        if self.state != "prepared":
            self._quietly(f"XA END {lit}")  # ACTIVE -> IDLE; IDLE or PREPARED answer 1399, which is fine
        self._run(f"XA ROLLBACK {lit}")
        self.state = "rolled-back"
        return False


# The connections enlisted in a transaction now (id(conn) -> its gtrid): one transaction at a time per connection.
_ENLISTED: Dict[int, str] = {}


def check_enlistable(conn, gtrid: str) -> None:
    """Before anything is asked of the TM or sent on the connection: found by hostile testing, a connection in a
    block of the application's own (or in another transaction's branch) was refused only after the client's cleanup
    had sent ROLLBACK on it, silently losing the application's own work or the other transaction's branch."""
    holder = _ENLISTED.get(id(conn))
    if holder is not None:
        raise IllegalStateError(f"enlist(): this connection holds a branch of transaction {holder} already: a connection serves one transaction at a time")
    if type(conn).__module__.startswith("psycopg2"):
        if not conn.autocommit:
            raise InvalidArgumentError("enlist(): a psycopg2 connection needs autocommit = True: the branch's BEGIN is sent by the client")
        if conn.info.transaction_status != 0:
            raise IllegalStateError("enlist(): the connection is in a transaction of its own: commit or roll it back first, or enlist an idle connection")


def hold(conn, gtrid: str) -> None:
    _ENLISTED[id(conn)] = gtrid


def release(conn, gtrid: str) -> None:
    if _ENLISTED.get(id(conn)) == gtrid:
        del _ENLISTED[id(conn)]


def branch_for(conn, resource: str, xid: Xid, self_named: bool) -> LocalBranch:
    """The branch kind for a psycopg2 or PyMySQL connection, told by its module."""
    module = type(conn).__module__
    if module.startswith("psycopg2"):
        return PostgresBranch(conn, resource, xid, self_named)
    if module.startswith("pymysql"):
        return MysqlBranch(conn, resource, xid, self_named)
    raise InvalidArgumentError(f"enlist() takes a psycopg2 or PyMySQL connection, got {type(conn).__name__}")
