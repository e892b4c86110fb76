"""What an answer of the TM means for a caller, and the errors a caller is told instead
(client/commit.ts, client/one-shot.ts): shared by the client (client.py) and its
transactions (transaction.py)."""

import random

from arbiter.v1 import transaction_pb2

from .errors import ArbiterError, HeuristicOutcomeError, OutcomeUnknownError, UnavailableError


def backoff(attempt: int, base_s: float, max_s: float) -> float:
    ceiling = min(max_s, base_s * 2 ** max(0, attempt - 1))
    return ceiling / 2 + random.random() * ceiling / 2


class SimulatedCrash(Exception):
    """Raised by the test hooks that make this process 'die' at a point of the protocol."""


def wait_for_wire(name: str) -> int:
    return transaction_pb2.WAIT_FOR_DURABLE if name == "durable" else transaction_pb2.WAIT_FOR_APPLIED


def not_run(error: ArbiterError) -> bool:
    """The TM answered (its ErrorInfo came back) with anything but 'I cannot say': it did not commit."""
    return error.from_tm and error.code not in ("TM_OUTCOME_UNKNOWN", "TM_INTERNAL")


def begin_failed(error: ArbiterError) -> ArbiterError:
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


def unknown_outcome(gtrid: str, why: str) -> OutcomeUnknownError:
    return OutcomeUnknownError(f"transaction {gtrid} may have committed: {why}; ask GetTransaction later", metadata={"gtrid": gtrid})


def classify_answer(error: ArbiterError) -> str:
    """What a failed Commit means (client/commit.ts classify)."""
    if error.code in ("TM_TX_ABORTED", "TM_TX_NOT_FOUND"):
        return "rolled-back"
    if error.code == "TM_HEURISTIC_MIXED":
        return "heuristic"
    if error.code in ("TM_INVALID_ARGUMENT", "TM_ILLEGAL_STATE", "TM_UNAUTHENTICATED", "TM_PERMISSION_DENIED"):
        return "refused"
    # OUTCOME_UNKNOWN, UNAVAILABLE, OVERLOADED, INTERNAL, a deadline, a lost connection: the TM may have decided.
    return "unknown"
