#!/usr/bin/env bash
# Regenerates every generated file and fails when the result differs from
# what is checked in (modified or new generated files both count).
set -euo pipefail
cd "$(dirname "$0")/.."
go generate ./...
changed=$(git status --porcelain -- '*_gen.go')
if [ -n "$changed" ]; then
  echo "generated files are out of date; run 'make generate' and commit:" >&2
  echo "$changed" >&2
  exit 1
fi
