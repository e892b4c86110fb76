#!/usr/bin/env bash
# Fails when proto/gen/ is not what proto:gen makes from proto/*.proto.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/proto-gen.sh
if [ -n "$(git status --porcelain -- proto/gen)" ]; then
  echo "proto/gen is stale: run 'npm run proto:gen' and commit the result" >&2
  git status --porcelain -- proto/gen >&2
  exit 1
fi
echo "proto/gen is up to date"
