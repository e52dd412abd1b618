#!/usr/bin/env bash
# omni as a peer of the shared gateway benchmark harness (../shared/bench from the project root).
#   bench/peers/omni.sh setup|start|wait|configure|stop|status|env
# Installs this checkout into its own venv under $PEERS_ROOT/omni, keeps all state in an
# OMNI_HOME there, and routes model "mock/gpt-4o-mini" to the mock upstream at $MOCK_URL/v1.
NAME=omni
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$HERE/../.." && pwd)
HARNESS=${BENCH_HARNESS:-$(cd "$PROJECT/../shared/bench" && pwd)}
source "$HARNESS/peers/common.sh"
PORT=${OMNI_BENCH_PORT:-20128}
BASE=http://127.0.0.1:$PORT
MODEL=mock/gpt-4o-mini
KEY=
DIR=$PEERS_ROOT/omni
VENV=$DIR/venv
export OMNI_HOME=$DIR/home

do_install() {
  mkdir -p "$DIR"
  [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
  log "pip install $PROJECT"
  "$VENV/bin/pip" install -q --disable-pip-version-check "$PROJECT" >&2
  log "installed omni $("$VENV/bin/omni" --version), venv $(du -sh "$VENV" | cut -f1)"
}

do_configure() {
  "$VENV/bin/omni" providers add mock --base-url "$MOCK_URL/v1" --api-key sk-mock-upstream \
    --models gpt-4o-mini --no-sync >&2
}

do_start() {
  [[ -f $OMNI_HOME/data/omni.sqlite ]] || do_configure
  nice -n "${BENCH_NICE:-0}" taskset -c "$GW_CPU" "$VENV/bin/omni" serve --port "$PORT" \
    --log-level warning >> "$DIR/server.log" 2>&1 &
  echo $! > "$(pidfile)"
}

STATE_ITEMS=("$OMNI_HOME")
dispatch "$@"
