"""The transaction inside `with client.transaction() as tx:` (client.py): its statements
through the TM, its local branches on the application's own connections, and its commit
(client/commit.ts)."""

import time
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple

from arbiter.v1 import transaction_manager_pb2 as tm
from arbiter.v1 import transaction_pb2

from .errors import ArbiterError, HeuristicOutcomeError, IllegalStateError, OutcomeUnknownError, TransactionAbortedError
from .local_branches import ARBITER_FORMAT_ID, LocalBranch, VoteNo, Xid, branch_for, check_enlistable, hold, release
from .outcomes import SimulatedCrash, backoff, classify_answer, escaped_why, mixed_outcome, wait_for_wire
from .statements import Statement, to_wire_statement, to_wire_statements
from .values import Result, from_result_set

if TYPE_CHECKING:
    from .client import ArbiterClient


class Transaction:
    """The transaction inside `with client.transaction() as tx:`."""

    def __init__(self, client: "ArbiterClient", gtrid: str, deadline_unix_ms: int, wait_for: str, hooks: Dict[str, Any]):
        self.client = client
        self.gtrid = gtrid
        self.deadline_unix_ms = deadline_unix_ms
        self.wait_for = wait_for
        self.hooks = hooks
        self.local: List[LocalBranch] = []
        self._named = 0
        # How the outcome was learned: 'answer' (Commit's own), 'asked' (after a lost answer).
        self.outcome_via = ""
        # "" open; "committed", "rolled-back" (tx.rollback()) or "failed" (commit() raised: that was its outcome).
        # Found by hostile testing: a second commit() prepared the finished branches again and told committed
        # data "rolled back" or "mixed"; a commit() after rollback() told a clean rollback "mixed".
        self._ended = ""
        self._rolled_back_escaped: Optional[str] = None

    def _check_open(self, what: str) -> None:
        if self._ended:
            raise IllegalStateError(f"{what}: transaction {self.gtrid} is no longer open (it {self._ended.replace('-', ' ')})")

    def release_connections(self) -> None:
        """The transaction is over: its connections may serve another."""
        for branch in self.local:
            release(branch.conn, self.gtrid)

    # -- statements through the TM -------------------------------------------------------------

    def execute(self, resource: str, sql: str, params: Sequence[Any] = ()) -> Result:
        self._check_open("execute()")
        statement = to_wire_statement(resource, sql, params, "execute(): ")
        return from_result_set(self.client.call("Execute", tm.ExecuteRequest(gtrid=self.gtrid, statement=statement)).result)

    def execute_batch(self, statements: Iterable[Statement]) -> List[Result]:
        self._check_open("execute_batch()")
        wire = to_wire_statements(statements, "execute_batch()")
        response = self.client.call("ExecuteBatch", tm.ExecuteBatchRequest(gtrid=self.gtrid, statements=wire))
        return [from_result_set(rs) for rs in response.results]

    # -- local branches ------------------------------------------------------------------------

    def enlist(self, resource: str, conn, name_it_here: bool = False) -> Xid:
        """Makes `conn` (psycopg2 with autocommit=True, or PyMySQL) a branch of this transaction and
        starts it (BEGIN / XA START). With Enlist the TM names the XID; with name_it_here the
        client names it (Arbiter's formatId, the gtrid, "L<n>") and announces it in Commit's votes."""
        self._check_open("enlist()")
        check_enlistable(conn, self.gtrid)
        if name_it_here:
            self._named += 1
            xid = Xid(ARBITER_FORMAT_ID, self.gtrid.encode(), f"L{self._named}".encode())
        else:
            wire = self.client.call("Enlist", tm.EnlistRequest(gtrid=self.gtrid, resource=resource)).xid
            xid = Xid(wire.format_id, bytes(wire.gtrid), bytes(wire.bqual))
        branch = branch_for(conn, resource, xid, name_it_here)
        # From here the TM expects a vote for it (when it came from Enlist): keep it even if it cannot start.
        self.local.append(branch)
        hold(conn, self.gtrid)
        try:
            branch.start()
        except Exception:
            branch.state = "failed"
            raise
        return xid

    # -- the end -------------------------------------------------------------------------------

    def rollback(self, reason: str) -> Optional[str]:
        """Rollback at the TM and on every local connection. Never raises. Returns why, when a local
        branch had been ended by the application itself: the outcome is then mixed, not rolled back."""
        if self._ended == "committed":
            return None  # nothing to roll back: the caller was told it committed
        if self._ended == "rolled-back":
            return self._rolled_back_escaped
        self._ended = "rolled-back"
        try:
            self.client.call("Rollback", tm.RollbackRequest(gtrid=self.gtrid, reason=reason[:500]))
        except ArbiterError:
            pass  # the TM's reaper rolls back what it does not hear about
        self._rolled_back_escaped = self._rollback_local()
        return self._rolled_back_escaped

    def _rollback_local(self) -> Optional[str]:
        """Rolls back every local branch; why, when one not yet prepared was found ended already
        (its block gone, or another in its place): its writes may be committed while the rest rolls back."""
        escaped = None
        for branch in self.local:
            if branch.state in ("committed", "rolled-back", "closed"):
                continue
            try:
                if branch.rollback() and escaped is None:
                    escaped = escaped_why(branch.resource, at_rollback=True)
            except Exception:
                branch.close()  # an open branch ends with its connection; a prepared one the TM finishes
        return escaped

    def _abandon_prepared(self) -> None:
        for branch in self.local:
            if branch.state == "prepared":
                branch.close()

    def commit(self) -> None:
        if self._ended == "committed":
            return  # a second commit(): the first one's outcome stands
        if self._ended == "rolled-back":
            raise TransactionAbortedError(f"transaction {self.gtrid} was rolled back: nothing to commit", metadata={"gtrid": self.gtrid, "retryable": "false"})
        if self._ended == "failed":
            raise IllegalStateError(f"commit(): transaction {self.gtrid} already ended: the first commit()'s error was its outcome")
        try:
            self._commit()
            self._ended = "committed"
        except BaseException:
            self._ended = self._ended or "failed"
            raise

    def _commit(self) -> None:
        # Phase 1 of the local branches: this side prepares them (any order, or in parallel).
        votes = []
        for branch in self.local:
            try:
                branch.prepare()
            except VoteNo as no:
                escaped_at_rollback = self.rollback(f"local branch on {branch.resource!r} voted no: {no}")
                # Found by hostile testing: told "rolled back" (not retryable) while its COMMIT had committed the debit.
                escaped = escaped_why(branch.resource, at_rollback=False) if no.escaped else escaped_at_rollback
                if escaped is not None:
                    raise mixed_outcome(self.gtrid, escaped) from no
                raise TransactionAbortedError(
                    f"transaction {self.gtrid} rolled back: local branch on {branch.resource!r} voted no: {no}",
                    metadata={"gtrid": self.gtrid, "retryable": "true" if no.retryable else "false", **({"serverCode": no.server_code} if no.server_code else {})},
                ) from no
            # A branch this side named itself is announced with its resource; one from Enlist is not.
            # Its driver's kind: a connection to another kind of database than the resource's is refused before any decision.
            votes.append(tm.LocalVote(bqual=branch.xid.bqual, read_only=False, resource=branch.resource if branch.self_named else "", kind=branch.driver, identity=branch.identity))
        if self.hooks.get("crash") == "after-prepare":
            for branch in self.local:
                branch.close()
            raise SimulatedCrash(f"{self.gtrid}: died after preparing its local branches")
        request = tm.CommitRequest(gtrid=self.gtrid, local_votes=votes, wait_for=wait_for_wire(self.wait_for))
        kind, error = self._send_commit(request, lose_answer=bool(self.hooks.get("lose-commit-answer")))
        self.outcome_via = "answer"
        if kind == "unknown":
            self.outcome_via = "asked"
            kind, error = self._resolve_outcome(request, error)
        if kind == "committed":
            if self.hooks.get("crash") == "after-decision":
                for branch in self.local:
                    branch.close()
                raise SimulatedCrash(f"{self.gtrid}: died after the decision, before committing its local branches")
            # Phase 2 of the local branches, on their own connections; then tell the TM (not waited for).
            done = []
            for branch in self.local:
                if branch.state != "prepared":
                    continue
                try:
                    branch.commit_prepared()
                    done.append(branch.xid.bqual)
                except Exception:
                    branch.close()  # the TM commits it after its grace period
            if done:
                self.client.report_committed(self.gtrid, done)
            return
        if kind == "rolled-back":
            escaped = self._rollback_local()
            if escaped is not None:
                raise mixed_outcome(self.gtrid, escaped) from error
            raise error
        if kind == "refused":
            escaped = self.rollback(f"commit refused: {error.message}")
            if escaped is not None:
                raise mixed_outcome(self.gtrid, escaped) from error
            raise error
        # heuristic or unknown: never guess; leave the prepared branches to the TM.
        self._abandon_prepared()
        if kind == "heuristic":
            raise error
        raise OutcomeUnknownError(
            f"the outcome of transaction {self.gtrid} is unknown (the TM did not answer: {error.message}); "
            "its prepared local branches were left to the TM; ask GetTransaction later",
            metadata={"gtrid": self.gtrid},
        )

    def _send_commit(self, request: tm.CommitRequest, lose_answer: bool = False) -> Tuple[str, Optional[ArbiterError]]:
        try:
            self.client.commit_request(request, lose_answer=lose_answer)
            return "committed", None
        except ArbiterError as error:
            return classify_answer(error), error

    def _resolve_outcome(self, request: tm.CommitRequest, first: ArbiterError) -> Tuple[str, ArbiterError]:
        """The answer to Commit was lost: ask (GetTransaction), Commit again while it is undecided."""
        last = first
        for attempt in range(1, self.client.outcome_query_attempts + 1):
            time.sleep(backoff(attempt, 0.2, 3.2))
            try:
                tx = self.client.get_transaction(self.gtrid, timeout_s=min(self.client.deadline_s, 5.0))
            except ArbiterError as error:
                # After a lost answer "unknown to the TM" is not "rolled back": a one-phase commit
                # leaves no record, so a TM that restarted since cannot tell. It will not change.
                if error.code == "TM_TX_NOT_FOUND":
                    return "unknown", error
                last = error
                continue
            state = tx.state
            if state == transaction_pb2.TRANSACTION_STATE_COMMITTING and self.wait_for == "applied" and not self.local and attempt < self.client.outcome_query_attempts:
                continue  # decided, the TM's phase 2 under way: "applied" waits for it (local branches are ours to commit)
            if state in (transaction_pb2.TRANSACTION_STATE_COMMITTING, transaction_pb2.TRANSACTION_STATE_COMMITTED):
                return "committed", last
            if state in (transaction_pb2.TRANSACTION_STATE_ROLLING_BACK, transaction_pb2.TRANSACTION_STATE_ROLLED_BACK):
                return "rolled-back", TransactionAbortedError(
                    f"transaction {self.gtrid} rolled back: {tx.abort_reason or 'rolled back'}",
                    metadata={"gtrid": self.gtrid, "retryable": "false"},
                )
            if state == transaction_pb2.TRANSACTION_STATE_OUTCOME_UNKNOWN:
                # The TM itself does not know (a one-phase COMMIT lost its connection), and never will: stop asking.
                return "unknown", OutcomeUnknownError(f"transaction {self.gtrid} has an unknown outcome: {tx.abort_reason}", metadata={"gtrid": self.gtrid})
            if state == transaction_pb2.TRANSACTION_STATE_HEURISTIC:
                return "heuristic", HeuristicOutcomeError(f"transaction {self.gtrid} has a heuristic outcome: {tx.abort_reason}", metadata={"gtrid": self.gtrid})
            # ACTIVE (our Commit never arrived) or PREPARING (it is running): Commit again, idempotent.
            kind, error = self._send_commit(request)
            if kind == "rolled-back" and error is not None and error.code == "TM_TX_NOT_FOUND":
                return "unknown", error  # it knew the transaction a moment ago: it restarted
            if kind != "unknown":
                return kind, error
            last = error
        return "unknown", last
