"""Python values <-> arbiter.v1.Value (proto/arbiter/v1/values.proto).

int travels as int64, Decimal as an exact decimal string, datetime as an
RFC 3339 timestamp, dict/list as JSON text. Results come back the same way.
"""

import datetime
import decimal
import json
from typing import Any, Dict, List, NamedTuple

from arbiter.v1 import values_pb2

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def to_value(v: Any, position: int) -> values_pb2.Value:
    if v is None:
        return values_pb2.Value(null_value=True)
    if isinstance(v, bool):  # before int: bool is an int in Python
        return values_pb2.Value(bool_value=v)
    if isinstance(v, int):
        if not INT64_MIN <= v <= INT64_MAX:
            raise ValueError(f"parameter {position}: {v} is outside int64")
        return values_pb2.Value(int_value=v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(f"parameter {position}: a double must be finite")
        return values_pb2.Value(double_value=v)
    if isinstance(v, decimal.Decimal):
        return values_pb2.Value(decimal_value=str(v))
    if isinstance(v, str):
        return values_pb2.Value(string_value=v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return values_pb2.Value(bytes_value=bytes(v))
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            raise ValueError(f"parameter {position}: a datetime needs a time zone")
        if v.microsecond % 1000 != 0:
            # The TM stores a timestamp exactly or refuses it: it keeps milliseconds.
            raise ValueError(f"parameter {position}: a datetime finer than a millisecond (pass it as a string and convert it in SQL)")
        return values_pb2.Value(timestamp_value=v.isoformat(timespec="milliseconds"))
    if isinstance(v, (dict, list)):
        return values_pb2.Value(json_value=json.dumps(v))
    raise ValueError(f"parameter {position}: cannot send a {type(v).__name__}")


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
