"""A small Arbiter client for Python, on the gRPC contract alone
(proto/arbiter/v1/transaction_manager.proto). It follows the protocol the
TypeScript client follows (client/commit.ts, client/one-shot.ts), with plain
unary calls: Begin, Execute / ExecuteBatch, Enlist, Commit, Rollback,
GetTransaction, Run, CompleteLocalBranches.

    client = ArbiterClient("127.0.0.1:50051", token="...")
    with client.transaction(timeout_ms=10_000) as tx:
        tx.execute("pg", "UPDATE accounts SET balance = balance - $1 WHERE id = $2", [30, 1])
        tx.enlist("mysql", my_pymysql_connection)        # a local branch
        my_pymysql_connection.cursor().execute("UPDATE ...")
    # committed here; an exception inside the block rolls everything back
"""

import contextlib
import random
import time
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import grpc

from arbiter.v1 import transaction_manager_pb2 as tm
from arbiter.v1 import transaction_manager_pb2_grpc as tm_grpc
from arbiter.v1 import transaction_pb2

from .errors import (
    ArbiterError,
    HeuristicOutcomeError,
    OutcomeUnknownError,
    TransactionAbortedError,
    UnavailableError,
    from_rpc_error,
)
from .channel import Pem, open_channel
from .local_branches import ARBITER_FORMAT_ID, LocalBranch, VoteNo, Xid, branch_for
from .reports import CompletionReports
from .statements import Statement, to_wire_statement, to_wire_statements
from .values import Result, from_result_set

# The most a gRPC message may carry to this process (grpcio's default). Announced to the TM in
# the request header arbiter-max-receive-bytes: it then refuses (and rolls back) an answer that
# would not fit, instead of committing and sending one this side cannot receive.
MAX_RECEIVE_BYTES = 4 * 1024 * 1024


def _backoff(attempt: int, base_s: float, max_s: float) -> float:
    ceiling = min(max_s, base_s * 2 ** max(0, attempt - 1))
    return ceiling / 2 + random.random() * ceiling / 2


class SimulatedCrash(Exception):
    """Raised by the test hooks that make this process 'die' at a point of the protocol."""


class ArbiterClient:
    """`address` is host:port. TLS (see channel.py): tls=True, or any of root_certificates /
    cert_chain / private_key (PEM bytes, or the path of a PEM file). A token travels only over
    TLS or to a loopback address unless allow_insecure_token=True."""

    def __init__(
        self,
        address: str,
        token: Optional[str] = None,
        deadline_s: float = 30.0,
        outcome_query_attempts: int = 5,
        *,
        tls: bool = False,
        root_certificates: Optional[Pem] = None,
        cert_chain: Optional[Pem] = None,
        private_key: Optional[Pem] = None,
        allow_insecure_token: bool = False,
    ):
        self._channel = open_channel(
            address,
            token,
            tls=tls,
            root_certificates=root_certificates,
            cert_chain=cert_chain,
            private_key=private_key,
            allow_insecure_token=allow_insecure_token,
            options=[("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 500)],
        )
        self._stub = tm_grpc.TransactionManagerStub(self._channel)
        metadata = [("arbiter-max-receive-bytes", str(MAX_RECEIVE_BYTES))]
        if token is not None:
            metadata.append(("authorization", f"Bearer {token}"))
        self._metadata = tuple(metadata)
        self.deadline_s = deadline_s
        self.outcome_query_attempts = outcome_query_attempts
        self._reports = CompletionReports(lambda req: self.call("CompleteLocalBranches", req))

    def close(self) -> None:
        self._reports.flush()
        self._channel.close()

    def call(self, method: str, request, timeout_s: Optional[float] = None):
        """One unary call; every failure becomes an ArbiterError."""
        try:
            return getattr(self._stub, method)(request, metadata=self._metadata, timeout=timeout_s or self.deadline_s)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    # -- single calls --------------------------------------------------------------------------

    def begin(self, timeout_ms: int = 0, labels: Optional[Dict[str, str]] = None) -> tm.BeginResponse:
        """A Begin only names a transaction: one that failed ran nothing, whatever its answer."""
        try:
            return self.call("Begin", tm.BeginRequest(timeout_ms=timeout_ms, labels=labels or {}))
        except ArbiterError as error:
            raise _begin_failed(error) from error

    def get_transaction(self, gtrid: str, timeout_s: Optional[float] = None) -> transaction_pb2.Transaction:
        return self.call("GetTransaction", tm.GetTransactionRequest(gtrid=gtrid), timeout_s)

    def commit_request(self, request: tm.CommitRequest, lose_answer: bool = False) -> tm.CommitResponse:
        """Commit, carrying the completion reports gathered so far (they go again if it fails)."""
        carried = self._reports.take()
        sent = request
        if carried:
            sent = tm.CommitRequest()
            sent.CopyFrom(request)
            sent.completed_local.extend(carried)
        try:
            response = self.call("Commit", sent)
        except ArbiterError:
            self._reports.put_back(carried)
            raise
        if lose_answer:  # test hook: the TM decided, the answer never arrived
            self._reports.put_back(carried)
            raise UnavailableError("the answer to Commit was lost (simulated)", from_tm=False)
        return response

    def report_committed(self, gtrid: str, bquals: List[bytes]) -> None:
        self._reports.add(gtrid, bquals)

    # -- a transaction with a block ------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(
        self,
        timeout_ms: int = 0,
        labels: Optional[Dict[str, str]] = None,
        wait_for: str = "applied",
        hooks: Optional[Dict[str, Any]] = None,
    ) -> Iterator["Transaction"]:
        """Begin; commit when the block ends, roll back (and re-raise) when it raises."""
        begun = self.begin(timeout_ms, labels)
        tx = Transaction(self, begun.gtrid, begun.deadline_unix_ms, wait_for, hooks or {})
        try:
            yield tx
        except SimulatedCrash:
            raise
        except BaseException as error:
            escaped = tx.rollback(f"the application's code failed: {type(error).__name__}: {error}")
            # The block failed after it ended a local branch itself: what that branch did stays, the rest rolled back.
            if escaped is not None:
                raise mixed_outcome(tx.gtrid, escaped) from error
            raise
        tx.commit()

    # -- one-shot ------------------------------------------------------------------------------

    def run(
        self,
        statements: Iterable[Statement],
        timeout_ms: int = 0,
        labels: Optional[Dict[str, str]] = None,
        wait_for: str = "applied",
        lose_answer: bool = False,
    ) -> tm.RunResponse:
        """Begin, the statements and Commit in one Run. The transaction is named first (a Begin),
        so that a lost answer is asked about by sending the same Run again: the TM answers a
        repeat with the first run's outcome and never runs the statements twice."""
        # Checked before the Begin: a malformed list must not leave a named transaction waiting for its timeout.
        wire = to_wire_statements(statements, "run()")
        for naming in (1, 2):
            gtrid = self.begin(timeout_ms, labels).gtrid
            request = tm.RunRequest(timeout_ms=timeout_ms, labels=labels or {}, statements=wire, wait_for=_wait_for(wait_for), gtrid=gtrid)
            try:
                response = self.call("Run", request)
                if lose_answer:
                    raise UnavailableError("the answer to Run was lost (simulated)", from_tm=False)
                return response
            except ArbiterError as error:
                first = error
            if _not_run(first):
                # The TM lost the transaction its Begin named (it restarted in between): nothing ran.
                if naming == 1 and first.code == "TM_TX_NOT_FOUND":
                    continue
                raise first
            return self._repeat_run(request, first)
        raise AssertionError("unreachable")

    def _repeat_run(self, request: tm.RunRequest, first: ArbiterError) -> tm.RunResponse:
        last = first
        for attempt in range(1, self.outcome_query_attempts + 1):
            time.sleep(_backoff(attempt, 0.2, 3.2))
            try:
                return self.call("Run", request)
            except ArbiterError as error:
                if not error.from_tm or error.code in ("TM_OVERLOADED", "TM_RM_UNAVAILABLE", "TM_WRONG_NODE"):
                    last = error
                    continue
                if error.code == "TM_TX_ABORTED" and error.metadata.get("beginRefused") == "true":
                    raise _unknown(request.gtrid, f"the TM would not take the repeated Run up ({error.message})")
                if error.code in ("TM_TX_NOT_FOUND", "TM_OUTCOME_UNKNOWN", "TM_INTERNAL"):
                    # A one-resource commit leaves no record: "unknown to the TM" is no answer.
                    raise _unknown(request.gtrid, f"the TM could not say ({error.code}: {error.message})")
                raise  # the first run's own answer: the same for every repeat
        raise _unknown(request.gtrid, f"no answer ({first.message}; last: {last.message})")


def _wait_for(name: str) -> int:
    return transaction_pb2.WAIT_FOR_DURABLE if name == "durable" else transaction_pb2.WAIT_FOR_APPLIED


def _not_run(error: ArbiterError) -> bool:
    """The TM answered (its ErrorInfo came back) with anything but 'I cannot say': it did not commit."""
    return error.from_tm and error.code not in ("TM_OUTCOME_UNKNOWN", "TM_INTERNAL")


def _begin_failed(error: ArbiterError) -> ArbiterError:
    """A Begin cannot have an unknown outcome: at worst it named a transaction nobody uses, which
    its timeout ends. No answer (a deadline, a lost connection) is 'unavailable, retry', never
    'outcome unknown'. The TM's own refusals (auth, a bad timeout, overload) stay what they are."""
    if error.from_tm and error.code not in ("TM_OUTCOME_UNKNOWN", "TM_INTERNAL"):
        return error
    return UnavailableError(f"Begin failed, nothing ran: {error.message}", retryable=True)


def escaped_why(resource: str, at_rollback: bool) -> str:
    when = " before the transaction rolled back" if at_rollback else ""
    return (
        f'the local branch on "{resource}" was ended by a statement of the application\'s own on its enlisted connection '
        f"(COMMIT or ROLLBACK){when}: its writes may be committed while the rest is rolled back"
    )


def mixed_outcome(gtrid: str, escaped: str) -> HeuristicOutcomeError:
    """What a transaction whose local branch the application ended itself is told instead of "rolled back"
    (client/commit.ts mixedOutcome). Raise it `from` the error it replaces."""
    return HeuristicOutcomeError(f"transaction {gtrid} has a mixed outcome: {escaped}. Do not retry: check that resource", metadata={"gtrid": gtrid})


def _unknown(gtrid: str, why: str) -> OutcomeUnknownError:
    return OutcomeUnknownError(f"transaction {gtrid} may have committed: {why}; ask GetTransaction later", metadata={"gtrid": gtrid})


class Transaction:
    """The transaction inside `with client.transaction() as tx:`."""

    def __init__(self, client: ArbiterClient, gtrid: str, deadline_unix_ms: int, wait_for: str, hooks: Dict[str, Any]):
        self.client = client
        self.gtrid = gtrid
        self.deadline_unix_ms = deadline_unix_ms
        self.wait_for = wait_for
        self.hooks = hooks
        self.local: List[LocalBranch] = []
        self._named = 0
        # How the outcome was learned: 'answer' (Commit's own), 'asked' (after a lost answer).
        self.outcome_via = ""

    # -- statements through the TM -------------------------------------------------------------

    def execute(self, resource: str, sql: str, params: Sequence[Any] = ()) -> Result:
        statement = to_wire_statement(resource, sql, params, "execute(): ")
        return from_result_set(self.client.call("Execute", tm.ExecuteRequest(gtrid=self.gtrid, statement=statement)).result)

    def execute_batch(self, statements: Iterable[Statement]) -> List[Result]:
        wire = to_wire_statements(statements, "execute_batch()")
        response = self.client.call("ExecuteBatch", tm.ExecuteBatchRequest(gtrid=self.gtrid, statements=wire))
        return [from_result_set(rs) for rs in response.results]

    # -- local branches ------------------------------------------------------------------------

    def enlist(self, resource: str, conn, name_it_here: bool = False) -> Xid:
        """Makes `conn` (psycopg2 with autocommit=True, or PyMySQL) a branch of this transaction and
        starts it (BEGIN / XA START). With Enlist the TM names the XID; with name_it_here the
        client names it (Arbiter's formatId, the gtrid, "L<n>") and announces it in Commit's votes."""
        if name_it_here:
            self._named += 1
            xid = Xid(ARBITER_FORMAT_ID, self.gtrid.encode(), f"L{self._named}".encode())
        else:
            wire = self.client.call("Enlist", tm.EnlistRequest(gtrid=self.gtrid, resource=resource)).xid
            xid = Xid(wire.format_id, bytes(wire.gtrid), bytes(wire.bqual))
        branch = branch_for(conn, resource, xid, name_it_here)
        # From here the TM expects a vote for it (when it came from Enlist): keep it even if it cannot start.
        self.local.append(branch)
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
        try:
            self.client.call("Rollback", tm.RollbackRequest(gtrid=self.gtrid, reason=reason[:500]))
        except ArbiterError:
            pass  # the TM's reaper rolls back what it does not hear about
        return self._rollback_local()

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
            votes.append(tm.LocalVote(bqual=branch.xid.bqual, read_only=False, resource=branch.resource if branch.self_named else "", kind=branch.driver))
        if self.hooks.get("crash") == "after-prepare":
            for branch in self.local:
                branch.close()
            raise SimulatedCrash(f"{self.gtrid}: died after preparing its local branches")
        request = tm.CommitRequest(gtrid=self.gtrid, local_votes=votes, wait_for=_wait_for(self.wait_for))
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
            return _classify(error), error

    def _resolve_outcome(self, request: tm.CommitRequest, first: ArbiterError) -> Tuple[str, ArbiterError]:
        """The answer to Commit was lost: ask (GetTransaction), Commit again while it is undecided."""
        last = first
        for attempt in range(1, self.client.outcome_query_attempts + 1):
            time.sleep(_backoff(attempt, 0.2, 3.2))
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
            if state in (transaction_pb2.TRANSACTION_STATE_COMMITTING, transaction_pb2.TRANSACTION_STATE_COMMITTED):
                return "committed", last
            if state in (transaction_pb2.TRANSACTION_STATE_ROLLING_BACK, transaction_pb2.TRANSACTION_STATE_ROLLED_BACK):
                return "rolled-back", TransactionAbortedError(
                    f"transaction {self.gtrid} rolled back: {tx.abort_reason or 'rolled back'}",
                    metadata={"gtrid": self.gtrid, "retryable": "false"},
                )
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


def _classify(error: ArbiterError) -> str:
    """What a failed Commit means (client/commit.ts classify)."""
    if error.code in ("TM_TX_ABORTED", "TM_TX_NOT_FOUND"):
        return "rolled-back"
    if error.code == "TM_HEURISTIC_MIXED":
        return "heuristic"
    if error.code in ("TM_INVALID_ARGUMENT", "TM_ILLEGAL_STATE", "TM_UNAUTHENTICATED", "TM_PERMISSION_DENIED"):
        return "refused"
    # OUTCOME_UNKNOWN, UNAVAILABLE, OVERLOADED, INTERNAL, a deadline, a lost connection: the TM may have decided.
    return "unknown"
