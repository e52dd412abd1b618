#!/usr/bin/env bash
# omni as a peer of the shared gateway benchmark harness (../shared/bench from the project root).
#   bench/peers/omni.sh setup|start|wait|configure|stop|status|env
# Installs this checkout into its own venv under $PEERS_ROOT/omni, keeps all state in an
# OMNI_HOME there, and routes model "mock/gpt-4o-mini" to the mock upstream at $MOCK_URL/v1.
# Client API keys are required (security.require_api_key) and the load sends a real omni key
# ("bench-load", chat scope): `configure` creates it and stores it in $OMNI_HOME/bench-key, so
# every copy of the home (the live one, the harness's state snapshot) carries the key its own
# database knows. Homes configured before keys were required are upgraded when this script runs.
# Env: OMNI_BENCH_PORT (20128), OMNI_WORKERS (passed as `serve --workers`; unset = omni's
# default), GW_CPU (taskset CPU list for the gateway: "1", or "0,1" for two cores).
NAME=omni
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$HERE/../.." && pwd)
HARNESS=${BENCH_HARNESS:-$(cd "$PROJECT/../shared/bench" && pwd)}
source "$HARNESS/peers/common.sh"
PORT=${OMNI_BENCH_PORT:-20128}
BASE=http://127.0.0.1:$PORT
MODEL=mock/gpt-4o-mini
DIR=$PEERS_ROOT/omni
VENV=$DIR/venv
export OMNI_HOME=$DIR/home
TEMPLATE_HOME=$DIR/state-template/home # common.sh's snapshot of $OMNI_HOME, restored by `start`

# Give a configured home (live or snapshot) the client key and require keys; no-op when done.
ensure_key() {
  local h=$1
  [[ -f $h/data/omni.sqlite && ! -s $h/bench-key && -x $VENV/bin/omni ]] || return 0
  OMNI_HOME=$h "$VENV/bin/omni" config set security.require_api_key true >/dev/null
  OMNI_HOME=$h "$VENV/bin/omni" keys add bench-load --scopes chat --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])' > "$h/bench-key.new"
  chmod 600 "$h/bench-key.new"
  mv "$h/bench-key.new" "$h/bench-key"
  log "client key created in $h (API keys required)"
}

# The home the server runs on after the next `start` (which restores the snapshot unless
# KEEP_STATE=1 or it is already running): the key is read from there.
next_home() {
  if [[ ${KEEP_STATE:-0} != 1 && -d $TEMPLATE_HOME ]] && ! running_pid >/dev/null; then
    echo "$TEMPLATE_HOME"
  else
    echo "$OMNI_HOME"
  fi
}

ensure_key "$TEMPLATE_HOME"
ensure_key "$OMNI_HOME"
KEY=$(cat "$(next_home)/bench-key" 2>/dev/null || true)

do_install() {
  mkdir -p "$DIR"
  [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
  log "pip install $PROJECT"
  "$VENV/bin/pip" install -q --disable-pip-version-check "$PROJECT" >&2
  log "installed omni $("$VENV/bin/omni" --version), venv $(du -sh "$VENV" | cut -f1)"
}

do_configure() {
  local have
  have=$("$VENV/bin/omni" providers list --json)
  if [[ $have != *'"mock"'* ]]; then
    "$VENV/bin/omni" providers add mock --base-url "$MOCK_URL/v1" --api-key sk-mock-upstream \
      --models gpt-4o-mini --no-sync >&2
  fi
  ensure_key "$OMNI_HOME"
  KEY=$(cat "$OMNI_HOME/bench-key")
}

do_start() {
  [[ -f $OMNI_HOME/data/omni.sqlite ]] || do_configure
  ensure_key "$OMNI_HOME"
  local workers=()
  [[ -n ${OMNI_WORKERS:-} ]] && workers=(--workers "$OMNI_WORKERS")
  OMNI_REQUIRE_API_KEY=true nice -n "${BENCH_NICE:-0}" taskset -c "$GW_CPU" \
    "$VENV/bin/omni" serve --port "$PORT" "${workers[@]}" --log-level warning \
    >> "$DIR/server.log" 2>&1 &
  echo $! > "$(pidfile)"
}

STATE_ITEMS=("$OMNI_HOME")
dispatch "$@"
