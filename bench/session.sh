# Shared by bench/soak.sh, bench/scale.sh and bench/streams.sh (sourced, not run): the omni
# peer script, the harness's mock upstream, and a trap that stops the load, omni and the mock
# on any exit.
# Needs HERE, OUT and NAME (for messages) set by the caller.
PEER=$HERE/peers/omni.sh
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }
source "$BENCH_HARNESS/lib/mock.sh"

GW_STARTED="" LOAD_PID=""
cleanup() {
  trap - EXIT INT TERM
  if [[ -n $LOAD_PID ]] && kill -0 "$LOAD_PID" 2>/dev/null; then
    kill "$LOAD_PID" 2>/dev/null || true
    wait "$LOAD_PID" 2>/dev/null || true
  fi
  [[ -n $GW_STARTED ]] && "$PEER" stop || true
  mock_stop
}
trap cleanup EXIT
trap 'echo "[$NAME] interrupted" >&2; exit 130' INT TERM

# The mock upstream and omni (set up first unless SKIP_SETUP=1), answering: sets BASE, KEY,
# MODEL (the peer's env) and GW_PID.
start_session() {
  mock_start "$BENCH_HARNESS" "$OUT"
  if [[ -z ${SKIP_SETUP:-} ]]; then "$PEER" setup; fi
  eval "$("$PEER" env)"
  GW_PID=$("$PEER" start | sed -n 's/^PID=//p')
  GW_STARTED=1
  "$PEER" wait 120 >/dev/null
}
