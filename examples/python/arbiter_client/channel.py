"""The gRPC channel to the TM: plaintext or TLS, and where a token may go.

TLS is on with tls=True (the system's root certificates) or when any of
root_certificates / cert_chain / private_key is given. Each is PEM: bytes
are the PEM itself, a str or os.PathLike is the path of a PEM file (read
once, here). cert_chain and private_key go together (mutual TLS), as the
TypeScript client's tls.cert / tls.key (client/options.ts).

A token is a bearer secret: it is sent only over TLS, or to a loopback
address (127.0.0.0/8, ::1, localhost, a unix socket), where nobody else
sees the bytes. Anything else is refused here, before any call, unless
allow_insecure_token=True (a network you trust, or TLS ended by a proxy).
"""

import ipaddress
import os
from typing import List, Optional, Tuple, Union

import grpc

from .errors import InvalidArgumentError

Pem = Union[bytes, str, "os.PathLike[str]"]


def _pem(name: str, value: Optional[Pem]) -> Optional[bytes]:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, (str, os.PathLike)):
        try:
            with open(value, "rb") as f:
                return f.read()
        except OSError as error:
            raise InvalidArgumentError(f"{name}: cannot read the PEM file {os.fspath(value)!r}: {error}") from error
    raise InvalidArgumentError(f"{name} must be PEM bytes or the path of a PEM file, not a {type(value).__name__}")


def host_of(address: str) -> Optional[str]:
    """The host of a gRPC target: host:port, [v6]:port, ipv4:/ipv6:/dns: targets; None for a unix socket."""
    if address.startswith(("unix:", "unix-abstract:")):
        return None
    target = address
    for scheme in ("ipv4:", "ipv6:", "dns:"):
        if target.startswith(scheme):
            target = target[len(scheme):].rsplit("/", 1)[-1]  # dns:///host:port or dns://authority/host:port
            target = target.split(",", 1)[0]
    if target.startswith("["):
        return target[1:].split("]", 1)[0]
    if target.count(":") > 1:  # a bare IPv6 address without a port
        return target
    return target.rsplit(":", 1)[0] if ":" in target else target


def is_loopback(address: str) -> bool:
    host = host_of(address)
    if host is None:
        return True  # a unix socket never leaves the machine
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere


def open_channel(
    address: str,
    token: Optional[str],
    *,
    tls: bool,
    root_certificates: Optional[Pem],
    cert_chain: Optional[Pem],
    private_key: Optional[Pem],
    allow_insecure_token: bool,
    options: List[Tuple[str, object]],
) -> grpc.Channel:
    if (cert_chain is None) != (private_key is None):
        raise InvalidArgumentError("cert_chain and private_key go together (mutual TLS): give both or neither")
    secure = tls or root_certificates is not None or cert_chain is not None
    if not secure:
        if token is not None and not allow_insecure_token and not is_loopback(address):
            raise InvalidArgumentError(
                f"a token would travel in plaintext to {address}: give TLS (tls=True or root_certificates=...), "
                "connect to a loopback address, or pass allow_insecure_token=True on a network you trust"
            )
        return grpc.insecure_channel(address, options=options)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_pem("root_certificates", root_certificates),
        private_key=_pem("private_key", private_key),
        certificate_chain=_pem("cert_chain", cert_chain),
    )
    return grpc.secure_channel(address, credentials, options=options)
