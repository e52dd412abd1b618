"""Memory soak of one running gateway: wrk at constant concurrency, RSS sampled on a timer.

Run by bench/soak.sh (which starts the mock upstream and omni); usable alone against any
running gateway:
  python3 bench/soak.py --pid PID --target http://127.0.0.1:20128 --key KEY --out DIR
Samples the RSS of the gateway's process tree (sum of VmRSS, like the harness's run.py) and
the mock upstream's request counter every --sample-secs, writes DIR/samples.json and
DIR/report.md with RSS start/min/max/end, the slope after the warm-up (least squares, MB per
minute), RPS, errors and a verdict against "<= --max-mb and flat (end - start <= --flat-mb)".
"""

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

import loadkit


def slope_per_min(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) points, in MB per minute."""
    if len(points) < 2:
        return None
    mx = statistics.fmean(t for t, _ in points)
    my = statistics.fmean(v for _, v in points)
    den = sum((t - mx) ** 2 for t, _ in points)
    if den == 0:
        return None
    return 60.0 * sum((t - mx) * (v - my) for t, v in points) / den


def sample(pid: int, mock: str, t0: float, cpu0: int) -> dict[str, Any]:
    return {
        "t": round(time.monotonic() - t0, 1),
        "rss_mb": round(loadkit.rss_mb(pid), 2),
        "procs": len(loadkit.tree(pid)),
        "cpu_s": round((loadkit.cpu_ticks(pid) - cpu0) / loadkit.CLK, 2),
        "upstream": loadkit.mock_chat_count(mock),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    loadkit.harness.mock_config(args.mock, 200, 0)
    res: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "target": args.target,
        "model": args.model,
        "auth": bool(args.key),
        "conns": args.conns,
        "secs": args.secs,
        "warmup_secs": args.warmup_secs,
        "sample_secs": args.sample_secs,
        "load_cpu": args.load_cpu,
        "gw_cpu": args.gw_cpu,
        "workers": args.workers,
        "idle_rss_mb": round(loadkit.rss_mb(args.pid), 2),
    }
    samples: list[dict[str, Any]] = []
    cpu0 = loadkit.cpu_ticks(args.pid)
    cores0 = loadkit.per_cpu_busy()
    t0 = time.monotonic()
    wrk = loadkit.Wrk(args.target, args.model, args.key, args.conns, args.secs, args.load_cpu)
    try:
        samples.append(sample(args.pid, args.mock, t0, cpu0))
        nxt = args.sample_secs
        while wrk.running():
            time.sleep(min(0.2, max(0.0, nxt - (time.monotonic() - t0))))
            if not loadkit.tree(args.pid):
                res["gateway_died_at_s"] = round(time.monotonic() - t0, 1)
                wrk.kill()
                break
            if time.monotonic() - t0 >= nxt and wrk.running():
                samples.append(sample(args.pid, args.mock, t0, cpu0))
                nxt += args.sample_secs
                s = samples[-1]
                print(f"[soak] t={s['t']:.0f}s rss={s['rss_mb']:.1f}MB", file=sys.stderr)
        if "gateway_died_at_s" not in res:
            res["wrk"] = wrk.result(timeout=60)
            if time.monotonic() - t0 - samples[-1]["t"] > args.sample_secs / 2:
                samples.append(sample(args.pid, args.mock, t0, cpu0))
    finally:
        wrk.kill()
    res["per_core_busy_pct"] = loadkit.core_busy(cores0, loadkit.per_cpu_busy())
    res["samples"] = samples
    return res


def summarise(res: dict[str, Any], max_mb: float, flat_mb: float) -> dict[str, Any]:
    samples = res["samples"]
    after = [s for s in samples if s["t"] >= res["warmup_secs"]] or samples[-1:]
    rss_all = [s["rss_mb"] for s in samples]
    s: dict[str, Any] = {
        "rss_idle": res["idle_rss_mb"],
        "rss_first": rss_all[0],
        "rss_start": after[0]["rss_mb"],
        "rss_start_t": after[0]["t"],
        "rss_min": min(rss_all),
        "rss_max": max(rss_all),
        "rss_end": samples[-1]["rss_mb"],
        "rss_end_t": samples[-1]["t"],
        "slope_mb_per_min": slope_per_min([(x["t"], x["rss_mb"]) for x in after]),
        "samples_after_warmup": len(after),
        "procs_max": max(x["procs"] for x in samples),
    }
    s["growth_mb"] = s["rss_end"] - s["rss_start"]
    wrk = res.get("wrk") or {}
    s["rps"] = wrk.get("rps")
    s["requests"] = wrk.get("requests")
    s["non2xx"] = wrk.get("non2xx")
    s["socket_errors"] = wrk.get("socket_errors")
    dur = samples[-1]["t"] or 1.0
    s["gateway_cpu_pct"] = 100.0 * samples[-1]["cpu_s"] / dur
    problems = []
    if "gateway_died_at_s" in res:
        problems.append(f"the gateway exited after {res['gateway_died_at_s']} s")
    if s["rss_max"] > max_mb:
        problems.append(f"peak RSS {s['rss_max']:.1f} MB > {max_mb:g} MB")
    if s["growth_mb"] > flat_mb:
        problems.append(f"RSS grew {s['growth_mb']:.1f} MB after the warm-up (> {flat_mb:g} MB)")
    if wrk and (s["non2xx"] or s["socket_errors"]):
        problems.append(f"{s['non2xx']} non-2xx answers, {s['socket_errors']} socket errors")
    if len(after) < 2:
        problems.append("fewer than two samples after the warm-up: run longer")
    s["verdict"] = "PASS" if not problems else "FAIL: " + "; ".join(problems)
    return s


def intervals(samples: list[dict[str, Any]]) -> list[str]:
    rows = []
    prev = None
    for x in samples:
        rps = None
        if prev is not None and x["upstream"] is not None and prev["upstream"] is not None:
            dt = x["t"] - prev["t"]
            rps = (x["upstream"] - prev["upstream"]) / dt if dt > 0 else None
        rows.append(f"| {x['t']:.0f} | {x['rss_mb']:.1f} | {x['procs']} | {loadkit.fmt(rps, 0)} |")
        prev = x
    return rows


def report(res: dict[str, Any], s: dict[str, Any], max_mb: float, flat_mb: float) -> str:
    f = loadkit.fmt
    wrk = res.get("wrk") or {}
    lat = wrk.get("lat_ms") or {}
    slope = s["slope_mb_per_min"]
    lines = [
        f"# Soak — {res['started']}",
        "",
        f"omni at {res['target']}, model `{res['model']}`, API key sent: "
        f"{'yes' if res['auth'] else 'no'}; wrk -c{res['conns']} for {res['secs']} s "
        f"(harness post.lua, non-streaming chat body); gateway CPUs {res['gw_cpu'] or 'any'}, "
        f"load CPUs {res['load_cpu'] or 'any'}, workers {res['workers'] or 'default'}. "
        f"RSS = sum of VmRSS over the gateway's process tree, sampled every "
        f"{res['sample_secs']} s; warm-up {res['warmup_secs']} s.",
        "",
        f"**Verdict** (≤ {max_mb:g} MB and flat: end - start after warm-up ≤ {flat_mb:g} MB): "
        f"**{s['verdict']}**",
        "",
        "| RSS MB | idle | start (t≈{:.0f} s) | min | max | end (t≈{:.0f} s) | end - start | "
        "slope MB/min |".format(s["rss_start_t"], s["rss_end_t"]),
        "|---|---|---|---|---|---|---|---|",
        f"| | {f(s['rss_idle'])} | {f(s['rss_start'])} | {f(s['rss_min'])} | {f(s['rss_max'])} "
        f"| {f(s['rss_end'])} | {s['growth_mb']:+.1f} | "
        f"{'-' if slope is None else f'{slope:+.3f}'} |",
        "",
        "| requests | RPS | p50 ms | p99 ms | non-2xx | socket errors | gateway CPU% | "
        "busy % per core | gateway processes |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {f(s['requests'], 0)} | {f(s['rps'])} | {f(lat.get('p50'), 2)} | "
        f"{f(lat.get('p99'), 2)} | {f(s['non2xx'], 0)} | {f(s['socket_errors'], 0)} | "
        f"{f(s['gateway_cpu_pct'])} | {loadkit.cores(res['per_core_busy_pct'])} | "
        f"{s['procs_max']} |",
        "",
        "## Samples",
        "",
        "RPS per interval is counted at the mock upstream (requests that went through).",
        "",
        "| t s | RSS MB | processes | upstream RPS |",
        "|---|---|---|---|",
        *intervals(res["samples"]),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pid", type=int, required=True, help="gateway root PID")
    ap.add_argument("--target", required=True, help="gateway base URL (no /v1)")
    ap.add_argument("--model", default="mock/gpt-4o-mini")
    ap.add_argument("--key", default="", help="omni API key (sent as Authorization: Bearer)")
    ap.add_argument("--mock", default="http://127.0.0.1:18080", help="mock upstream base URL")
    ap.add_argument("--secs", type=int, default=600)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--sample-secs", type=float, default=10.0)
    ap.add_argument("--warmup-secs", type=float, default=30.0)
    ap.add_argument("--max-mb", type=float, default=120.0)
    ap.add_argument("--flat-mb", type=float, default=5.0)
    ap.add_argument("--load-cpu", default=os.environ.get("LOAD_CPU", "0"), help="'' = unpinned")
    ap.add_argument("--gw-cpu", default=os.environ.get("GW_CPU", ""), help="recorded only")
    ap.add_argument("--workers", default=os.environ.get("OMNI_WORKERS", ""), help="recorded only")
    ap.add_argument("--out", required=True, help="results folder")
    args = ap.parse_args()
    loadkit.stop_on_sigterm()
    res = run(args)
    s = summarise(res, args.max_mb, args.flat_mb)
    res["summary"] = s
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "samples.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    md = report(res, s, args.max_mb, args.flat_mb)
    with open(os.path.join(args.out, "report.md"), "w") as fh:
        fh.write(md)
    slope = s["slope_mb_per_min"]
    print(
        f"[soak] RSS idle {s['rss_idle']:.1f} start {s['rss_start']:.1f} min {s['rss_min']:.1f} "
        f"max {s['rss_max']:.1f} end {s['rss_end']:.1f} MB, slope "
        f"{'-' if slope is None else f'{slope:+.3f}'} MB/min | RPS {loadkit.fmt(s['rps'])} "
        f"non-2xx {s['non2xx']} socket errors {s['socket_errors']} | {s['verdict']}",
        flush=True,
    )
    return 0 if s["verdict"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
