#!/usr/bin/env bash
# Streaming through omni (bench/streams.py): the direct path, omni's pass-through and omni's
# Anthropic → OpenAI translation, 200-chunk streams back to back and 5 ms apart. omni on
# GW_CPU (1), the mock and the client on LOAD_CPU (0), as in the side-by-side run.
#   bench/streams.sh                 # ITERS=20 sequential streams per kind (5 when paced)
#   SKIP_SETUP=1 bench/streams.sh    # omni's peer already set up by bench/run.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$HERE/.." && pwd)
export BENCH_HARNESS=${BENCH_HARNESS:-$(cd "$PROJECT/../shared/bench" && pwd)}
export GW_CPU=${GW_CPU:-1} LOAD_CPU=${LOAD_CPU:-0}
OUT=${OUT:-${BENCH_RESULTS:-$PROJECT/bench-results}/streams-$(date +%Y%m%d-%H%M%S)}
NAME=streams
source "$HERE/session.sh"

start_session
python3 "$HERE/streams.py" --omni "$BASE" --key "$KEY" --model "$MODEL" --mock "$MOCK_URL" \
  --iters "${ITERS:-20}" --out "$OUT/streams.json" | tee "$OUT/report.md"
echo "results in $OUT" >&2
