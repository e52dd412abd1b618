#!/usr/bin/env bash
# `omni serve --workers N` scaling on this machine: omni with --workers 1, then --workers 2,
# both on the same CPUs (GW_CPU=0,1) so the worker count is the only difference; wrk -c64 for
# SCALE_SECS each, ROUNDS rounds (the order alternates between rounds), then report.md.
#   bench/scale.sh
#   ROUNDS=1 SCALE_SECS=5 SKIP_SETUP=1 bench/scale.sh      # smoke run
# The load side (wrk and the mock upstream) is unpinned by default (LOAD_CPU=0,1): on two
# cores, pinning it to one core would leave a second worker only half a core. The report
# shows the CPU the gateway and the load side used, and RPS per gateway core-second, which
# does not depend on how the cores were shared.
# Env: ROUNDS (3), SCALE_SECS (15), SCALE_CONNS (64), WARMUP_SECS (3), WORKERS_LIST ("1 2"),
#      GW_CPU (0,1), LOAD_CPU (0,1; wrk and mock), WRK_THREADS (1), IDLE_SECS (2),
#      QUIET_MAX_PCT (15) / QUIET_TIMEOUT (300 s), SKIP_SETUP=1, OUT (bench-results/scale-<ts>).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$HERE/.." && pwd)
export BENCH_HARNESS=${BENCH_HARNESS:-$(cd "$PROJECT/../shared/bench" && pwd)}
export GW_CPU=${GW_CPU:-0,1} LOAD_CPU=${LOAD_CPU:-0,1}
ROUNDS=${ROUNDS:-3}
WORKERS_LIST=${WORKERS_LIST:-"1 2"}
OUT=${OUT:-${BENCH_RESULTS:-$PROJECT/bench-results}/scale-$(date +%Y%m%d-%H%M%S)}
NAME=scale
source "$HERE/session.sh"

# Runs a command in the background and waits, so a signal reaches the trap at once.
run_bg() {
  local rc=0
  "$@" &
  LOAD_PID=$!
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=""
  return "$rc"
}

mock_start "$BENCH_HARNESS" "$OUT"
if [[ -z ${SKIP_SETUP:-} ]]; then "$PEER" setup; fi
eval "$("$PEER" env)"
for r in $(seq 1 "$ROUNDS"); do
  order=$WORKERS_LIST
  (( r % 2 == 0 )) && order=$(echo "$WORKERS_LIST" | tr ' ' '\n' | tac | tr '\n' ' ')
  i=0
  for w in $order; do
    i=$((i + 1))
    echo "=== round $r/$ROUNDS: --workers $w (CPUs $GW_CPU) ===" >&2
    run_bg python3 "$BENCH_HARNESS/lib/quiet.py" --max-pct "${QUIET_MAX_PCT:-15}" \
      --timeout "${QUIET_TIMEOUT:-300}" || echo "[warn] measuring on a busy machine" >&2
    pid=$(OMNI_WORKERS=$w "$PEER" start | sed -n 's/^PID=//p')
    GW_STARTED=1
    "$PEER" wait 120 >/dev/null
    sleep "${IDLE_SECS:-2}"
    run_bg python3 "$HERE/scale.py" measure --pid "$pid" --target "$BASE" --model "$MODEL" \
      --key "$KEY" --mock "$MOCK_URL" --mock-pid "${MOCK_PID:-0}" --workers "$w" --round "$r" \
      --order "$i" --conns "${SCALE_CONNS:-64}" --secs "${SCALE_SECS:-15}" \
      --warmup-secs "${WARMUP_SECS:-3}" --load-cpu "$LOAD_CPU" --gw-cpu "$GW_CPU" \
      --out "$OUT/w$w-r$r.json"
    "$PEER" stop
    GW_STARTED=""
  done
done
python3 "$HERE/scale.py" report "$OUT"
echo "report: $OUT/report.md" >&2
