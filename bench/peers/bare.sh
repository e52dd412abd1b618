#!/usr/bin/env bash
# The bare-proxy ceiling as a peer of the shared harness (bench/peers/bare_proxy.py: aiohttp +
# uvloop + orjson, no features). The issue's "≥ 55% of the bare proxy" compares omni with it.
#   bench/peers/bare.sh setup|start|wait|configure|stop|status|env
NAME=bare
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$HERE/../.." && pwd)
HARNESS=${BENCH_HARNESS:-$(cd "$PROJECT/../shared/bench" && pwd)}
source "$HARNESS/peers/common.sh"
PORT=${BARE_BENCH_PORT:-20140}
BASE=http://127.0.0.1:$PORT
MODEL=gpt-4o-mini
KEY=""
DIR=$PEERS_ROOT/bare
VENV=$DIR/venv

do_install() {
  mkdir -p "$DIR"
  [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check aiohttp uvloop orjson >&2
  log "installed aiohttp $("$VENV/bin/python" -c 'import aiohttp; print(aiohttp.__version__)')"
}

do_configure() { :; }  # nothing to configure: the upstream is fixed

do_start() {
  BARE_UPSTREAM=$MOCK_URL/v1 nice -n "${BENCH_NICE:-0}" taskset -c "$GW_CPU" \
    "$VENV/bin/python" "$HERE/bare_proxy.py" "$PORT" >> "$DIR/server.log" 2>&1 &
  echo $! > "$(pidfile)"
}

dispatch "$@"
