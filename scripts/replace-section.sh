#!/usr/bin/env bash
# replace-section.sh FILE NAME NEWCONTENT: replaces the lines between
# "<!-- NAME:start -->" and "<!-- NAME:end -->" in FILE with the contents of
# the file NEWCONTENT (make bench uses it to keep BENCHMARKS.md current).
set -euo pipefail
file=$1 name=$2 new=$3
grep -q "<!-- $name:start -->" "$file" || { echo "replace-section: no $name markers in $file" >&2; exit 1; }
tmp=$(mktemp)
awk -v start="<!-- $name:start -->" -v end="<!-- $name:end -->" -v new="$new" '
  $0 == start { print; while ((getline line < new) > 0) print line; skip = 1; next }
  $0 == end   { skip = 0 }
  !skip       { print }
' "$file" > "$tmp"
mv "$tmp" "$file"
