"""Arbiter's errors, rebuilt from the gRPC status exactly as the TypeScript
client does (client/errors.ts, fromGrpcError).

The TM sends every error as a gRPC status whose grpc-status-details-bin
trailer holds a google.rpc.Status with one google.rpc.ErrorInfo in details:
domain "arbiter.dev", reason = the catalog code (proto/errors.ts), metadata
= gtrid, serverCode (SQLSTATE / MySQL errno), retryable ("true"/"false", an
abort says for itself), beginRefused, node/address (TM_WRONG_NODE), ...
A status without that ErrorInfo (a client-side deadline, a lost connection,
a proxy) maps by its gRPC code alone, and is not the TM's own answer.
"""

from typing import Dict, Optional

import grpc

from google.rpc import error_details_pb2, status_pb2

ERROR_DOMAIN = "arbiter.dev"
DETAILS_TRAILER = "grpc-status-details-bin"

# proto/errors.ts: code -> (gRPC status, retryable by default). A public contract: never moves.
CATALOG: Dict[str, tuple] = {
    "TM_INVALID_ARGUMENT": (grpc.StatusCode.INVALID_ARGUMENT, False),
    "TM_TX_NOT_FOUND": (grpc.StatusCode.NOT_FOUND, False),
    "TM_ILLEGAL_STATE": (grpc.StatusCode.FAILED_PRECONDITION, False),
    "TM_TX_ABORTED": (grpc.StatusCode.ABORTED, True),
    "TM_RM_UNAVAILABLE": (grpc.StatusCode.UNAVAILABLE, True),
    "TM_OVERLOADED": (grpc.StatusCode.RESOURCE_EXHAUSTED, True),
    "TM_OUTCOME_UNKNOWN": (grpc.StatusCode.DEADLINE_EXCEEDED, False),
    "TM_HEURISTIC_MIXED": (grpc.StatusCode.INTERNAL, False),
    "TM_UNAUTHENTICATED": (grpc.StatusCode.UNAUTHENTICATED, False),
    "TM_PERMISSION_DENIED": (grpc.StatusCode.PERMISSION_DENIED, False),
    "TM_WRONG_NODE": (grpc.StatusCode.FAILED_PRECONDITION, False),
    "TM_INTERNAL": (grpc.StatusCode.INTERNAL, False),
}

# A bare status (no ErrorInfo): the code its gRPC status means (client/errors.ts CODE_OF_STATUS).
CODE_OF_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: "TM_INVALID_ARGUMENT",
    grpc.StatusCode.NOT_FOUND: "TM_TX_NOT_FOUND",
    grpc.StatusCode.FAILED_PRECONDITION: "TM_ILLEGAL_STATE",
    grpc.StatusCode.ABORTED: "TM_TX_ABORTED",
    grpc.StatusCode.UNAVAILABLE: "TM_RM_UNAVAILABLE",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "TM_OVERLOADED",
    grpc.StatusCode.DEADLINE_EXCEEDED: "TM_OUTCOME_UNKNOWN",
    grpc.StatusCode.UNAUTHENTICATED: "TM_UNAUTHENTICATED",
    grpc.StatusCode.PERMISSION_DENIED: "TM_PERMISSION_DENIED",
}


class ArbiterError(Exception):
    """Every error about the TM: code (catalog), grpc_code, message, metadata, retryable."""

    def __init__(
        self,
        code: str,
        message: str,
        grpc_code: Optional[grpc.StatusCode] = None,
        metadata: Optional[Dict[str, str]] = None,
        retryable: Optional[bool] = None,
        from_tm: bool = False,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.grpc_code = grpc_code if grpc_code is not None else CATALOG.get(code, CATALOG["TM_INTERNAL"])[0]
        self.metadata: Dict[str, str] = dict(metadata or {})
        hint = self.metadata.get("retryable")
        if retryable is not None:
            self.retryable = retryable
        elif hint is not None:
            self.retryable = hint == "true"
        else:
            self.retryable = CATALOG.get(code, CATALOG["TM_INTERNAL"])[1]
        # True when the TM itself answered (the status carried its ErrorInfo): it got the request.
        self.from_tm = from_tm

    @property
    def gtrid(self) -> Optional[str]:
        return self.metadata.get("gtrid")

    @property
    def server_code(self) -> Optional[str]:
        """The database's own code when a statement or a vote failed (SQLSTATE or MySQL errno)."""
        return self.metadata.get("serverCode")

    @property
    def grpc_status_number(self) -> int:
        return self.grpc_code.value[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.message})"


class _Coded(ArbiterError):
    """A subclass for one catalog code: built with the message alone."""

    CODE = "TM_INTERNAL"

    def __init__(self, message: str, **kwargs):
        super().__init__(self.CODE, message, **kwargs)


class TransactionAbortedError(_Coded):
    CODE = "TM_TX_ABORTED"


class OutcomeUnknownError(_Coded):
    CODE = "TM_OUTCOME_UNKNOWN"


class TransactionNotFoundError(_Coded):
    CODE = "TM_TX_NOT_FOUND"


class HeuristicOutcomeError(_Coded):
    CODE = "TM_HEURISTIC_MIXED"


class UnavailableError(_Coded):
    CODE = "TM_RM_UNAVAILABLE"


class InvalidArgumentError(_Coded):
    CODE = "TM_INVALID_ARGUMENT"


class IllegalStateError(_Coded):
    CODE = "TM_ILLEGAL_STATE"


class ResourceExhaustedError(_Coded):
    CODE = "TM_OVERLOADED"


class UnauthenticatedError(_Coded):
    CODE = "TM_UNAUTHENTICATED"


class PermissionDeniedError(_Coded):
    CODE = "TM_PERMISSION_DENIED"


class WrongNodeError(_Coded):
    CODE = "TM_WRONG_NODE"


CLASS_OF = {
    "TM_TX_ABORTED": TransactionAbortedError,
    "TM_OUTCOME_UNKNOWN": OutcomeUnknownError,
    "TM_TX_NOT_FOUND": TransactionNotFoundError,
    "TM_HEURISTIC_MIXED": HeuristicOutcomeError,
    "TM_RM_UNAVAILABLE": UnavailableError,
    "TM_INVALID_ARGUMENT": InvalidArgumentError,
    "TM_ILLEGAL_STATE": IllegalStateError,
    "TM_OVERLOADED": ResourceExhaustedError,
    "TM_UNAUTHENTICATED": UnauthenticatedError,
    "TM_PERMISSION_DENIED": PermissionDeniedError,
    "TM_WRONG_NODE": WrongNodeError,
}


def error_for(code: str, message: str, **kwargs) -> ArbiterError:
    cls = CLASS_OF.get(code)
    return cls(message, **kwargs) if cls is not None else ArbiterError(code, message, **kwargs)


def error_info_of(status_bytes: bytes) -> Optional[error_details_pb2.ErrorInfo]:
    """Arbiter's ErrorInfo in a serialized google.rpc.Status, if any (undecodable counts as none)."""
    try:
        status = status_pb2.Status.FromString(status_bytes)
        for detail in status.details:
            if not detail.type_url.endswith("/google.rpc.ErrorInfo"):
                continue
            info = error_details_pb2.ErrorInfo.FromString(detail.value)
            if info.domain == ERROR_DOMAIN:
                return info
    except Exception:  # a status we cannot read: fall back to the bare gRPC code
        return None
    return None


def from_rpc_error(error: grpc.RpcError) -> ArbiterError:
    """The one conversion from a grpcio error to Arbiter's typed errors."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = (error.details() if hasattr(error, "details") else None) or ""
    info = None
    trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailers or ():
        if key == DETAILS_TRAILER and isinstance(value, bytes):
            info = error_info_of(value)
            break
    if info is not None and info.reason in CATALOG:
        return error_for(info.reason, message, grpc_code=code, metadata=dict(info.metadata), from_tm=True)
    mapped = CODE_OF_STATUS.get(code, "TM_INTERNAL")
    return error_for(mapped, message or f"gRPC status {code.name}", grpc_code=code)
