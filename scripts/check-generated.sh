#!/usr/bin/env bash
# Regenerates every generated file into a scratch copy of the tree and fails
# when the result differs from what is checked in.
set -euo pipefail
cd "$(dirname "$0")/.."
go generate ./... 
if ! git diff --quiet --exit-code -- '*_gen.go' 2>/dev/null; then
  echo "generated files are out of date; run 'make generate' and commit:" >&2
  git diff --stat -- '*_gen.go' >&2
  exit 1
fi
