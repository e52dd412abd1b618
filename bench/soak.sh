#!/usr/bin/env bash
# Memory soak: omni under wrk -c32 for SOAK_SECS, RSS of its process tree sampled every 10 s.
#   bench/soak.sh                      # 10 minutes (~11 with set-up)
#   SOAK_SECS=40 SKIP_SETUP=1 bench/soak.sh
# Starts the harness's mock upstream (lib/mock.sh) and omni (bench/peers/omni.sh, API keys on)
# pinned like the side-by-side run: wrk and the mock on LOAD_CPU=0, omni on GW_CPU=1.
# Env: SOAK_SECS (600), SOAK_CONNS (32), SAMPLE_SECS (10), WARMUP_SECS (30), IDLE_SECS (5,
#      idle time before the idle RSS is read), MAX_MB (120), FLAT_MB (5), OMNI_WORKERS,
#      QUIET_MAX_PCT (15) / QUIET_TIMEOUT (300 s): wait for other tenants' CPU use to drop first,
#      SKIP_SETUP=1 (omni already set up by bench/peers/omni.sh setup or an earlier run),
#      OUT (bench-results/soak-<timestamp>).
# Writes $OUT/report.md and samples.json; exits non-zero if the verdict is FAIL.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$HERE/.." && pwd)
export BENCH_HARNESS=${BENCH_HARNESS:-$(cd "$PROJECT/../shared/bench" && pwd)}
export LOAD_CPU=${LOAD_CPU:-0} GW_CPU=${GW_CPU:-1}
SOAK_SECS=${SOAK_SECS:-600}
OUT=${OUT:-${BENCH_RESULTS:-$PROJECT/bench-results}/soak-$(date +%Y%m%d-%H%M%S)}
NAME=soak
source "$HERE/session.sh"

start_session
pid=$GW_PID
python3 "$BENCH_HARNESS/lib/quiet.py" --max-pct "${QUIET_MAX_PCT:-15}" \
  --timeout "${QUIET_TIMEOUT:-300}" || echo "[warn] measuring on a busy machine" >&2
sleep "${IDLE_SECS:-5}"
echo "[soak] omni PID=$pid (CPUs $GW_CPU, workers ${OMNI_WORKERS:-default}); wrk -c${SOAK_CONNS:-32} for ${SOAK_SECS}s -> $OUT" >&2
# In the background so a signal reaches the trap at once (bash defers traps while a
# foreground child runs); soak.py stops wrk when it gets SIGTERM.
python3 "$HERE/soak.py" --pid "$pid" --target "$BASE" --model "$MODEL" --key "$KEY" \
  --mock "$MOCK_URL" --secs "$SOAK_SECS" --conns "${SOAK_CONNS:-32}" \
  --sample-secs "${SAMPLE_SECS:-10}" --warmup-secs "${WARMUP_SECS:-30}" \
  --max-mb "${MAX_MB:-120}" --flat-mb "${FLAT_MB:-5}" --out "$OUT" &
LOAD_PID=$!
rc=0
wait "$LOAD_PID" || rc=$?
LOAD_PID=""
echo "report: $OUT/report.md" >&2
exit "$rc"
