"""Generates the Python gRPC stubs from the repository's proto/ into a folder.

    /usr/bin/python3 examples/python/build_stubs.py OUT_DIR

Then put OUT_DIR on PYTHONPATH: the modules are arbiter.v1.*_pb2(_grpc) and
google.rpc.*_pb2, as protoc names them. Needs grpcio-tools (Debian:
python3-grpc-tools). Nothing is checked in: the stubs are made at build or
test time from the .proto files, the contract.
"""

import os
import sys

import grpc_tools
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "proto"))
# The Admin service is for operators; an application needs only these.
FILES = [
    "arbiter/v1/values.proto",
    "arbiter/v1/transaction.proto",
    "arbiter/v1/transaction_manager.proto",
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
]


def build(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    # google/protobuf/any.proto (imported by google/rpc/status.proto) ships with grpc_tools.
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    args = ["protoc", f"-I{PROTO_DIR}", f"-I{well_known}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}", *FILES]
    if protoc.main(args) != 0:
        raise SystemExit(f"protoc failed: {' '.join(args)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} OUT_DIR")
    build(sys.argv[1])
