"""The checks of what an application passes to the client, before anything is sent
(client/options.ts in the TypeScript client). Found by hostile testing: bad values
came out as protobuf's TypeError or ValueError, as a retryable UnavailableError
that a retry loop never got past, or were taken silently (wait_for="durabel")."""

import re
from typing import Optional

from .errors import InvalidArgumentError

MAX_UINT32 = 2**32 - 1


def check_begin_options(timeout_ms, labels, wait_for) -> None:
    """transaction() and run(): timeout_ms, labels and wait_for."""
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or not 0 <= timeout_ms <= MAX_UINT32:
        raise InvalidArgumentError(f"timeout_ms must be a whole number of milliseconds from 0 (the TM's default) to {MAX_UINT32}, got {timeout_ms!r}", from_tm=False)
    if labels is not None:
        if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
            raise InvalidArgumentError(f"labels must be a dict of str to str, got {labels!r}"[:300], from_tm=False)
    if wait_for not in ("applied", "durable"):
        raise InvalidArgumentError(f'wait_for must be "applied" or "durable", got {wait_for!r}', from_tm=False)


def check_client_options(address, deadline_s, token: Optional[str]) -> None:
    """ArbiterClient(): an address gRPC can dial as host:port, a deadline, a token that fits a header."""
    if not _dialable(address):
        raise InvalidArgumentError(
            f'address must be "host:port", e.g. "127.0.0.1:50051", or a gRPC target such as "dns:///tm.example:50051", got {address!r}', from_tm=False
        )
    if isinstance(deadline_s, bool) or not isinstance(deadline_s, (int, float)) or not deadline_s > 0:
        raise InvalidArgumentError(f"deadline_s must be a number of seconds above 0, got {deadline_s!r}", from_tm=False)
    if token is not None and (not isinstance(token, str) or not re.fullmatch(r"[\x21-\x7e]+", token)):
        raise InvalidArgumentError("token must be printable ASCII without spaces (it travels in a header)", from_tm=False)


# gRPC's own target schemes (a name resolver's), as grpcio dials them: "http://" is not one of them.
GRPC_SCHEMES = ("dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:", "vsock:", "xds:")


def _dialable(address) -> bool:
    if not isinstance(address, str):
        return False
    if address.startswith(GRPC_SCHEMES):
        return True
    match = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})", address)
    return match is not None and int(match.group(2)) <= 65535
