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
import time
from typing import Any, Dict, Iterable, Iterator, List, Optional

import grpc

from arbiter.v1 import transaction_manager_pb2 as tm
from arbiter.v1 import transaction_manager_pb2_grpc as tm_grpc
from arbiter.v1 import transaction_pb2

from .channel import Pem, open_channel
from .arguments import check_begin_options, check_client_options
from .errors import ArbiterError, IllegalStateError, UnavailableError, from_rpc_error
from .outcomes import SimulatedCrash, backoff, begin_failed, mixed_outcome, not_run, unknown_outcome, wait_for_wire
from .reports import CompletionReports
from .statements import Statement, to_wire_statement, to_wire_statements
from .transaction import Transaction

__all__ = ["ArbiterClient", "SimulatedCrash", "Transaction"]

# The most a gRPC message may carry to this process (grpcio's default). Announced to the TM in
# the request header arbiter-max-receive-bytes: it then refuses (and rolls back) an answer that
# would not fit, instead of committing and sending one this side cannot receive.
MAX_RECEIVE_BYTES = 4 * 1024 * 1024


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
        check_client_options(address, deadline_s, token)
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
        self._closed = False
        self._reports = CompletionReports(lambda req: self.call("CompleteLocalBranches", req))

    def close(self) -> None:
        self._reports.flush()
        self._closed = True
        self._channel.close()

    def call(self, method: str, request, timeout_s: Optional[float] = None):
        """One unary call; every failure becomes an ArbiterError."""
        # Found by hostile testing: a call after close() raised grpc's bare ValueError, which commit() did not
        # take for an answer, so a prepared local branch was left holding its locks. Nothing was sent: refused.
        if self._closed:
            raise IllegalStateError(f"{method}: the client is closed, nothing was sent")
        try:
            return getattr(self._stub, method)(request, metadata=self._metadata, timeout=timeout_s or self.deadline_s)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None
        except ValueError as error:  # grpc's "Cannot invoke RPC on closed channel!": closed meanwhile
            raise IllegalStateError(f"{method}: the client is closed, nothing was sent ({error})") from None

    # -- single calls --------------------------------------------------------------------------

    def begin(self, timeout_ms: int = 0, labels: Optional[Dict[str, str]] = None) -> tm.BeginResponse:
        """A Begin only names a transaction: one that failed ran nothing, whatever its answer."""
        try:
            return self.call("Begin", tm.BeginRequest(timeout_ms=timeout_ms, labels=labels or {}))
        except ArbiterError as error:
            raise begin_failed(error) from error

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
        check_begin_options(timeout_ms, labels, wait_for)
        begun = self.begin(timeout_ms, labels)
        tx = Transaction(self, begun.gtrid, begun.deadline_unix_ms, wait_for, hooks or {})
        try:
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
        finally:
            tx.release_connections()

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
        check_begin_options(timeout_ms, labels, wait_for)
        wire = to_wire_statements(statements, "run()")
        for naming in (1, 2):
            gtrid = self.begin(timeout_ms, labels).gtrid
            request = tm.RunRequest(timeout_ms=timeout_ms, labels=labels or {}, statements=wire, wait_for=wait_for_wire(wait_for), gtrid=gtrid)
            try:
                response = self.call("Run", request)
                if lose_answer:
                    raise UnavailableError("the answer to Run was lost (simulated)", from_tm=False)
                return response
            except ArbiterError as error:
                first = error
            if not_run(first):
                # The TM lost the transaction its Begin named (it restarted in between): nothing ran.
                if naming == 1 and first.code == "TM_TX_NOT_FOUND":
                    continue
                raise first
            return self._repeat_run(request, first)
        raise AssertionError("unreachable")

    def _repeat_run(self, request: tm.RunRequest, first: ArbiterError) -> tm.RunResponse:
        last = first
        for attempt in range(1, self.outcome_query_attempts + 1):
            time.sleep(backoff(attempt, 0.2, 3.2))
            try:
                return self.call("Run", request)
            except ArbiterError as error:
                if not error.from_tm or error.code in ("TM_OVERLOADED", "TM_RM_UNAVAILABLE", "TM_WRONG_NODE"):
                    last = error
                    continue
                if error.code == "TM_TX_ABORTED" and error.metadata.get("beginRefused") == "true":
                    raise unknown_outcome(request.gtrid, f"the TM would not take the repeated Run up ({error.message})")
                if error.code in ("TM_TX_NOT_FOUND", "TM_OUTCOME_UNKNOWN", "TM_INTERNAL"):
                    # A one-resource commit leaves no record: "unknown to the TM" is no answer.
                    raise unknown_outcome(request.gtrid, f"the TM could not say ({error.code}: {error.message})")
                raise  # the first run's own answer: the same for every repeat
        raise unknown_outcome(request.gtrid, f"no answer ({first.message}; last: {last.message})")
