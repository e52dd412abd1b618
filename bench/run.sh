#!/usr/bin/env bash
# One side-by-side run: the direct path, omni and peers, with the shared harness, then the
# streaming comparison (bench/streams.sh: pass-through against translated) in the same sitting.
#   bench/run.sh                            # omni + bare proxy + litellm + omniroute, 3 rounds
#   PEERS="omni" ROUNDS=1 bench/run.sh      # omni alone vs direct
# Needs wrk (apt-get install -y wrk) and node; peers install themselves under /tmp/peers.
# Results: bench-results/<timestamp>/report.md and streams/report.md (copy the tables into
# docs/PERFORMANCE.md).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$HERE/.." && pwd)
HARNESS=${BENCH_HARNESS:-$(cd "$PROJECT/../shared/bench" && pwd)}
export PEERS_DIR=$HERE/peers
export PEERS=${PEERS:-"omni bare litellm omniroute"}
export ROUNDS=${ROUNDS:-3}
export BENCH_RESULTS=${BENCH_RESULTS:-$PROJECT/bench-results}
export OUT=${OUT:-$BENCH_RESULTS/$(date +%Y%m%d-%H%M%S)}
"$HARNESS/run_all.sh"
if [[ " $PEERS " == *" omni "* ]]; then
  SKIP_SETUP=1 OUT=$OUT/streams "$HERE/streams.sh"
fi
