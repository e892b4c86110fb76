"""A list of statements for the TM (execute_batch(), run()): the
application's shape, checked and converted to the wire's in one place
(client/statements.ts). Checked before any call, so a malformed list costs
no Begin and leaves no transaction behind to wait for its timeout.
"""

from typing import Any, Iterable, List, Sequence, Tuple

from arbiter.v1 import transaction_manager_pb2 as tm

from .errors import InvalidArgumentError
from .values import to_values

Statement = Tuple[str, str, Sequence[Any]]  # (resource, sql, params)


def to_wire_statement(resource: str, sql: str, params: Any, where: str = "") -> tm.Statement:
    if not isinstance(resource, str) or not resource or not isinstance(sql, str) or not sql:
        raise InvalidArgumentError(f"{where}needs a resource and sql (non-empty strings)")
    try:
        values = to_values(params)
    except InvalidArgumentError as error:
        raise InvalidArgumentError(f"{where}{error.message}") from error
    return tm.Statement(resource=resource, sql=sql, params=values)


def to_wire_statements(statements: Iterable[Statement], what: str) -> List[tm.Statement]:
    """The wire form of `statements`; InvalidArgumentError (naming `what` and the statement) when one is malformed."""
    if isinstance(statements, (str, bytes, dict)):
        raise InvalidArgumentError(f"{what} takes a list of (resource, sql, params) statements, not a {type(statements).__name__}")
    try:
        listed = list(statements)
    except TypeError as error:
        raise InvalidArgumentError(f"{what} takes a list of (resource, sql, params) statements, not a {type(statements).__name__}") from error
    if not listed:
        raise InvalidArgumentError(f"{what} needs at least one statement")
    wire = []
    for i, s in enumerate(listed):
        where = f"{what}: statement {i + 1}: "
        if not isinstance(s, (list, tuple)) or len(s) not in (2, 3):
            raise InvalidArgumentError(f"{where}give it as (resource, sql) or (resource, sql, params)")
        wire.append(to_wire_statement(s[0], s[1], s[2] if len(s) == 3 else (), where))
    return wire
