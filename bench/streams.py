"""Streaming through omni: pass-through against translated, both against the direct path.

For 200-chunk streams from the harness's mock upstream (chunks back to back, then 5 ms
apart), sequential requests measure the time to the first content event and to the end of
the stream: straight from the mock (the limit), through omni's OpenAI pass-through
(/v1/chat/completions) and through omni's translation (Anthropic /v1/messages in, OpenAI
upstream). The issue's goals: first content ≤ 1 ms after the upstream's, a 200-chunk stream
≤ 5 ms longer, translated streams within 2x of pass-through. Run by bench/streams.sh.
"""

import argparse
import http.client
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from loadkit import harness


def one(base: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[float, float]:
    """(first content ms, total ms) of one streamed request."""
    host, port, prefix = harness.split_url(base)
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("POST", prefix + path, body=json.dumps(body).encode(), headers=headers)
    resp = conn.getresponse()
    if resp.status != 200:
        raise SystemExit(f"{path}: HTTP {resp.status} {resp.read()[:300]!r}")
    first = None
    while line := resp.readline():
        if first is None and (b'"content":"' in line or b'"text_delta"' in line):
            payload = json.loads(line[5:])
            delta = (payload.get("choices") or [{}])[0].get("delta", {}).get("content")
            if delta or payload.get("delta", {}).get("text"):
                first = time.perf_counter() - t0
        if b"[DONE]" in line or b'"message_stop"' in line:
            break
    total = time.perf_counter() - t0
    conn.close()
    return (first or total) * 1e3, total * 1e3


def measure(base: str, path: str, body: dict[str, Any], headers: dict[str, str],
            iters: int) -> dict[str, float]:  # fmt: skip
    one(base, path, body, headers)  # warm-up
    runs = [one(base, path, body, headers) for _ in range(iters)]
    return {"ttft_ms": round(statistics.median(r[0] for r in runs), 3),
            "total_ms": round(statistics.median(r[1] for r in runs), 3)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--omni", required=True, help="omni base URL")
    ap.add_argument("--key", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--mock", default="http://127.0.0.1:18080")
    ap.add_argument("--load-cpu", default=os.environ.get("LOAD_CPU", "0"))
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.sched_setaffinity(0, {int(c) for c in args.load_cpu.split(",")})
    chat = harness.chat_body(args.model, stream=True)
    msgs = dict(harness.msgs_body(args.model), stream=True)
    sse = {"content-type": "application/json", "accept": "text/event-stream"}
    auth = {**sse, "authorization": f"Bearer {args.key}"}
    anthropic = {**sse, "x-api-key": args.key, "anthropic-version": "2023-06-01"}
    direct_chat = dict(chat, model="gpt-4o-mini")
    rows = []
    for delay in (0, 5):
        harness.mock_config(args.mock, 200, delay)
        iters = args.iters if delay == 0 else max(args.iters // 4, 3)
        try:
            row = {
                "delay_ms": delay,
                "direct": measure(args.mock, "/v1/chat/completions", direct_chat, sse, iters),
                "passthrough": measure(args.omni, "/v1/chat/completions", chat, auth, iters),
                "translated": measure(args.omni, "/v1/messages", msgs, anthropic, iters),
            }
        finally:
            harness.mock_config(args.mock, 200, 0)
        rows.append(row)
    Path(args.out).write_text(json.dumps(rows, indent=1))
    lines = [
        "| chunks apart | direct TTFT / total ms | pass-through TTFT / total ms | translated "
        "TTFT / total ms | pass-through adds (TTFT / total) | translated / pass-through "
        "(TTFT / total) |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        d, p, t = row["direct"], row["passthrough"], row["translated"]
        lines.append(
            f"| {row['delay_ms']} ms | {d['ttft_ms']:.2f} / {d['total_ms']:.2f} "
            f"| {p['ttft_ms']:.2f} / {p['total_ms']:.2f} "
            f"| {t['ttft_ms']:.2f} / {t['total_ms']:.2f} "
            f"| {p['ttft_ms'] - d['ttft_ms']:+.2f} / {p['total_ms'] - d['total_ms']:+.2f} "
            f"| {t['ttft_ms'] / p['ttft_ms']:.2f}x / {t['total_ms'] / p['total_ms']:.2f}x |"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
