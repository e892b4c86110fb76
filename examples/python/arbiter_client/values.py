"""Python values <-> arbiter.v1.Value (proto/arbiter/v1/values.proto).

int travels as int64, Decimal as an exact decimal string, datetime as an
RFC 3339 timestamp, dict/list as JSON text. Results come back the same way.
A value that cannot be sent raises InvalidArgumentError naming its parameter
(client/values.ts toProtoValue), never a bare ValueError or TypeError: the
caller tells "my argument was wrong" from a driver or protocol failure by
the class alone.
"""

import datetime
import decimal
import json
import math
from typing import Any, Dict, List, NamedTuple

from arbiter.v1 import values_pb2

from .errors import InvalidArgumentError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def _bad(position: int, what: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"parameter {position}: {what}")


def _utf8(text: str, position: int, what: str) -> str:
    """The text, if it can travel as a protobuf string (UTF-8): a lone surrogate cannot."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise _bad(position, f"{what} is not valid Unicode (a lone surrogate at index {error.start})") from error
    return text


def to_value(v: Any, position: int) -> values_pb2.Value:
    if v is None:
        return values_pb2.Value(null_value=True)
    if isinstance(v, bool):  # before int: bool is an int in Python
        return values_pb2.Value(bool_value=v)
    if isinstance(v, int):
        if not INT64_MIN <= v <= INT64_MAX:
            raise _bad(position, f"{v} does not fit in int64")
        return values_pb2.Value(int_value=v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise _bad(position, f"{v} is not a finite number")
        return values_pb2.Value(double_value=v)
    if isinstance(v, decimal.Decimal):
        if not v.is_finite():
            raise _bad(position, f"Decimal {v} is not a decimal number")
        return values_pb2.Value(decimal_value=str(v))
    if isinstance(v, str):
        return values_pb2.Value(string_value=_utf8(v, position, "the str"))
    if isinstance(v, (bytes, bytearray, memoryview)):
        return values_pb2.Value(bytes_value=bytes(v))
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None or v.utcoffset() is None:
            raise _bad(position, "a datetime needs a time zone (a naive one is ambiguous)")
        if v.microsecond % 1000 != 0:
            # The TM stores a timestamp exactly or refuses it: it keeps milliseconds.
            raise _bad(position, "a datetime finer than a millisecond (pass it as a string and convert it in SQL)")
        offset = v.utcoffset()
        if offset.seconds % 60 != 0 or offset.microseconds != 0:
            # RFC 3339 has no seconds in an offset (found by hostile testing: "+00:00:30" was refused by the TM,
            # after the Begin): the same instant, written in UTC.
            v = v.astimezone(datetime.timezone.utc)
        return values_pb2.Value(timestamp_value=v.isoformat(timespec="milliseconds"))
    if isinstance(v, (dict, list)):
        try:
            # allow_nan=False: NaN and Infinity are not JSON, and the server would refuse the text.
            text = json.dumps(v, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as error:
            raise _bad(position, f"not JSON-serializable: {error}") from error
        return values_pb2.Value(json_value=text)
    raise _bad(position, f"a {type(v).__name__} cannot be sent; pass a dict or list (JSON), or convert it")


def to_values(params: Any, where: str = "") -> List[values_pb2.Value]:
    """A statement's parameters: a list or tuple. Anything else would be iterated, silently:
    a dict sends its keys, a str one parameter per character, bytes one int per byte."""
    if params is None:
        return []
    if not isinstance(params, (list, tuple)):
        raise InvalidArgumentError(f"{where}params must be a list or tuple of values, not a {type(params).__name__}")
    return [to_value(p, i + 1) for i, p in enumerate(params)]


def from_value(v: values_pb2.Value) -> Any:
    kind = v.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "decimal_value":
        return decimal.Decimal(v.decimal_value)
    if kind == "timestamp_value":
        return datetime.datetime.fromisoformat(v.timestamp_value.replace("Z", "+00:00"))
    if kind == "json_value":
        return json.loads(v.json_value)
    return getattr(v, kind)


class Result(NamedTuple):
    rows: List[Dict[str, Any]]
    columns: List[str]
    affected_rows: int


def from_result_set(rs) -> Result:
    names = [c.name for c in rs.columns]
    rows = [dict(zip(names, (from_value(x) for x in row.values))) for row in rs.rows]
    return Result(rows=rows, columns=names, affected_rows=int(rs.affected_rows))
