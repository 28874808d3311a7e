#!/usr/bin/env bash
# bench-bots.sh runs the standard `dptool bots` load scenarios (issue #9)
# against a freshly started Drawbridge bridge on 127.0.0.1 and prints a
# Markdown section (machine, date, commit, one table row per scenario) for
# BENCHMARKS.md on stdout. Progress goes to stderr.
#
# Environment:
#   DURATION     drawing phase per scenario (default 15s; keep it <= 20s)
#   RATE         messages per second per drawer (default 20)
#   SEED         generator seed (default 1)
#   REPORTS_DIR  keep the JSON reports here (default: a temporary directory
#                that is removed)
#   SCENARIOS    space-separated subset of: draw100 draw100ws sessions10
#                watchers250 catchup15 catchup99 null500 (default: all)
#
# Every scenario gets its own bridge process (so peak RSS is the
# scenario's), started on free ports and stopped afterwards; everything is
# cleaned up on exit, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
RATE=${RATE:-20}
SEED=${SEED:-1}
SCENARIOS=${SCENARIOS:-"draw100 draw100ws sessions10 watchers250 catchup15 catchup99 null500"}

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-bots.XXXXXX")
reports=${REPORTS_DIR:-$work/reports}
mkdir -p "$reports"
server_pid=""

stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench-bots: $*" >&2; }

log "building bridge and dptool"
go build -o "$work/bridge" ./cmd/bridge
go build -o "$work/dptool" ./cmd/dptool

# start_bridge starts a bridge on free ports and sets server_pid, tcp_addr
# and http_addr from its "listening" log line.
start_bridge() {
  local logf=$work/bridge.log
  : >"$logf"
  "$work/bridge" --listen 127.0.0.1 --port 0 --http 127.0.0.1:0 --log-level info 2>"$logf" &
  server_pid=$!
  local line=""
  for _ in $(seq 100); do
    line=$(grep -m1 'msg=listening' "$logf" || true)
    [[ -n "$line" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$logf" >&2; echo "bridge did not start" >&2; return 1; }
    sleep 0.1
  done
  [[ -n "$line" ]] || { echo "bridge did not report its addresses" >&2; return 1; }
  tcp_addr=$(sed -E 's/.* tcp=([^ ]+).*/\1/' <<<"$line")
  http_addr=$(sed -E 's/.* http=([^ ]+).*/\1/' <<<"$line")
}

# start_null starts dptool's null server (login + relay, no history).
start_null() {
  local logf=$work/null.log
  : >"$logf"
  "$work/dptool" bots --serve-null 127.0.0.1:0 >"$logf" 2>&1 &
  server_pid=$!
  local line=""
  for _ in $(seq 100); do
    line=$(grep -m1 'listening on' "$logf" || true)
    [[ -n "$line" ]] && break
    sleep 0.1
  done
  [[ -n "$line" ]] || { cat "$logf" >&2; echo "null server did not start" >&2; return 1; }
  tcp_addr=${line##*tcp://}
}

# bots LABEL NAME ARGS...: one dptool run; its report goes to
# $reports/NN-NAME.json.
n=0
files=()
bots() {
  local label=$1 name=$2
  shift 2
  n=$((n + 1))
  local out
  out=$(printf '%s/%02d-%s.json' "$reports" "$n" "$name")
  log "scenario $name: $label"
  if ! "$work/dptool" bots --seed "$SEED" --server-pid "$server_pid" --label "$label" --out "$out" "$@" >&2; then
    log "scenario $name failed"
  fi
  [[ -f "$out" ]] && files+=("$out")
}

for sc in $SCENARIOS; do
  case $sc in
  draw100)
    start_bridge
    bots "1 session × (10 drawers + 100 watchers), TCP" "$sc" --server "tcp://$tcp_addr" --session bench \
      --host-session --drawers 10 --watchers 100 --duration "$DURATION" --rate "$RATE"
    ;;
  draw100ws)
    start_bridge
    bots "1 session × (10 drawers + 100 watchers), WebSocket" "$sc" --server "ws://$http_addr/drawpile-web/ws" \
      --session bench --host-session --drawers 10 --watchers 100 --duration "$DURATION" --rate "$RATE"
    ;;
  sessions10)
    start_bridge
    bots "10 sessions × 5 drawers, TCP" "$sc" --server "tcp://$tcp_addr" --session bench --sessions 10 \
      --host-session --drawers 5 --watchers 0 --duration "$DURATION" --rate "$RATE"
    ;;
  watchers250)
    start_bridge
    bots "1 session × (2 drawers + 250 watchers), TCP" "$sc" --server "tcp://$tcp_addr" --session bench \
      --host-session --drawers 2 --watchers 250 --duration "$DURATION" --rate "$RATE"
    ;;
  catchup15)
    start_bridge
    bots "catch-up of a 15 MB history, 4 joiners, TCP" "$sc" --server "tcp://$tcp_addr" --session bench \
      --host-session --fill 15MB --catchup --drawers 0 --watchers 5
    ;;
  catchup99)
    start_bridge
    bots "catch-up of a 99 MB history, 2 joiners, TCP" "$sc" --server "tcp://$tcp_addr" --session bench \
      --host-session --fill 99MB --catchup --drawers 0 --watchers 3
    ;;
  null500)
    start_null
    bots "null server: 2 sessions × (5 drawers + 245 watchers) = 500 bots (tool cost)" "$sc" \
      --server "tcp://$tcp_addr" --session bench --sessions 2 --host-session --drawers 5 --watchers 245 \
      --duration "$DURATION" --rate "$RATE"
    ;;
  *)
    log "unknown scenario $sc"
    exit 2
    ;;
  esac
  stop_server
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git status --porcelain 2>/dev/null | head -1)" ]]; then
  commit="$commit (with uncommitted changes)"
fi
echo "## dptool bots load scenarios"
echo
echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) × $(nproc), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "- commit: $commit"
echo "- drawing phase $DURATION per scenario, $RATE messages/s per drawer, seed $SEED; bots and server share the machine"
echo "- latency: rtt = drawer's own round trip, delivery = send → arrival at another bot; server CPU % is of one core"
echo
if ((${#files[@]})); then
  "$work/dptool" bots --table "${files[@]}"
else
  echo "(no scenario produced a report)"
fi
