#!/usr/bin/env bash
# Runs the benchmark suite and prints the results with the machine, date and
# commit, in the form BENCHMARKS.md records.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-bench.txt}
{
  echo "# date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "# commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) x $(nproc)"
  echo "# go: $(go version)"
  go test -run='^$' -bench=. -benchmem -count=${BENCH_COUNT:-1} ./...
} | tee "$out"
