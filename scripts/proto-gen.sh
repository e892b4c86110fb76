#!/usr/bin/env bash
# Regenerates proto/gen/ from scratch. The runtime loader options in
# proto/load.ts must match these flags (longs/enums as strings, defaults, oneofs).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf proto/gen
npx --no-install proto-loader-gen-types \
  --longs=String --enums=String --defaults --oneofs \
  --grpcLib=@grpc/grpc-js --includeComments --importFileExtension=.js \
  -I proto -O proto/gen \
  arbiter/v1/values.proto arbiter/v1/transaction.proto \
  arbiter/v1/transaction_manager.proto arbiter/v1/admin.proto \
  google/rpc/status.proto google/rpc/error_details.proto >/dev/null
