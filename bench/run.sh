#!/usr/bin/env bash
# One side-by-side run: the direct path, omni and peers, with the shared harness.
#   bench/run.sh                       # omni + litellm + omniroute, 3 rounds
#   PEERS="omni" ROUNDS=1 bench/run.sh # omni alone vs direct
# Needs wrk (apt-get install -y wrk) and node; peers install themselves under /tmp/peers.
# Results: bench-results/<timestamp>/report.md (copy the tables into docs/PERFORMANCE.md).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$HERE/.." && pwd)
HARNESS=${BENCH_HARNESS:-$(cd "$PROJECT/../shared/bench" && pwd)}
export PEERS_DIR=$HERE/peers
export PEERS=${PEERS:-"omni litellm omniroute"}
export ROUNDS=${ROUNDS:-3}
export BENCH_RESULTS=${BENCH_RESULTS:-$PROJECT/bench-results}
exec "$HARNESS/run_all.sh"
