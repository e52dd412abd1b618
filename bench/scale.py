"""`omni serve --workers N` scaling: one measured wrk run per start, then a report.

Run by bench/scale.sh, which starts omni with each worker count on the same CPU set:
  python3 bench/scale.py measure --pid PID --target URL --key KEY --workers 2 --round 1 --out F
  python3 bench/scale.py report DIR
`measure` runs an unmeasured wrk -c8 warm-up, then wrk -c{--conns} for --secs and records
RPS, latency, errors, the CPU time of the gateway's process tree (per process too), of wrk
(from its rusage) and of the mock upstream's tree, and the busy % of each core. `report`
pairs the runs by round and writes DIR/report.md: RPS per run, the median ratio of each
worker count against --workers 1, CPU use and RPS per gateway core-second.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import loadkit

GOAL_RATIO = 1.7


def proc_ticks(pid: int) -> dict[int, int]:
    """CPU ticks of each process in the tree rooted at pid."""
    return {p: loadkit.cpu_ticks_one(p) for p in loadkit.tree(pid)}


def children_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure(args: argparse.Namespace) -> int:
    loadkit.stop_on_sigterm()
    loadkit.harness.mock_config(args.mock, 200, 0)
    warm = loadkit.Wrk(args.target, args.model, args.key, 8, args.warmup_secs, args.load_cpu)
    try:
        warm.result(timeout=args.warmup_secs + 60)
    finally:
        warm.kill()
    g0, m0 = proc_ticks(args.pid), loadkit.cpu_ticks(args.mock_pid) if args.mock_pid else 0
    w0, c0, t0 = children_cpu_s(), loadkit.per_cpu_busy(), time.monotonic()
    wrk = loadkit.Wrk(args.target, args.model, args.key, args.conns, args.secs, args.load_cpu)
    try:
        r = wrk.result(timeout=args.secs + 60)
    finally:
        wrk.kill()
    dt = time.monotonic() - t0
    g1, c1 = proc_ticks(args.pid), loadkit.per_cpu_busy()
    per_proc = {
        str(p): round(100.0 * (t - g0.get(p, 0)) / loadkit.CLK / dt, 1) for p, t in g1.items()
    }
    gw_cpu_s = sum(t - g0.get(p, 0) for p, t in g1.items()) / loadkit.CLK
    res: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "round": args.round,
        "workers": args.workers,
        "order": args.order,
        "target": args.target,
        "auth": bool(args.key),
        "conns": args.conns,
        "secs": args.secs,
        "wrk_threads": wrk.threads,
        "gw_cpu": args.gw_cpu,
        "load_cpu": args.load_cpu,
        "window_s": round(dt, 3),
        "wrk": r,
        "gateway_procs": len(g1),
        "gateway_cpu_pct": round(100.0 * gw_cpu_s / dt, 1),
        "gateway_cpu_pct_per_proc": per_proc,
        "wrk_cpu_pct": round(100.0 * (children_cpu_s() - w0) / dt, 1),
        "mock_cpu_pct": (
            round(100.0 * (loadkit.cpu_ticks(args.mock_pid) - m0) / loadkit.CLK / dt, 1)
            if args.mock_pid
            else None
        ),
        "per_core_busy_pct": loadkit.core_busy(c0, c1),
        "rps_per_gateway_core_s": round(r["requests"] / gw_cpu_s, 1) if gw_cpu_s else None,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(
        f"[scale] r{args.round} workers={args.workers}: RPS {r['rps']:,.0f} "
        f"p99 {r['lat_ms']['p99']:.1f} ms errors {r['errors_total']} | gateway "
        f"{res['gateway_cpu_pct']}% in {len(g1)} process(es), wrk {res['wrk_cpu_pct']}%, "
        f"mock {res['mock_cpu_pct']}% | {loadkit.fmt(res['rps_per_gateway_core_s'], 0)} "
        "req per gateway core-s",
        flush=True,
    )
    return 0


def med(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return statistics.median(vals) if vals else None


def run_row(x: dict[str, Any]) -> str:
    f = loadkit.fmt
    w = x["wrk"]
    procs = " + ".join(f"{v:.0f}" for v in x["gateway_cpu_pct_per_proc"].values())
    load = None if x["mock_cpu_pct"] is None else x["wrk_cpu_pct"] + x["mock_cpu_pct"]
    return (
        f"| {x['round']} | {x['workers']} | {x['gateway_procs']} | {f(w['rps'])} "
        f"| {f(w['lat_ms']['p50'], 2)} | {f(w['lat_ms']['p99'], 2)} | {w['non2xx']} "
        f"| {w['socket_errors']} | {f(x['gateway_cpu_pct'])} ({procs}) | {f(x['wrk_cpu_pct'])} "
        f"| {f(x['mock_cpu_pct'])} | {f(load)} | {loadkit.cores(x['per_core_busy_pct'])} "
        f"| {f(x['rps_per_gateway_core_s'], 0)} |"
    )


def report(folder: str) -> int:
    runs = [json.loads(p.read_text()) for p in sorted(Path(folder).glob("w*-r*.json"))]
    if not runs:
        print(f"no runs in {folder}", file=sys.stderr)
        return 1
    runs.sort(key=lambda x: (x["round"], x["order"]))
    by: dict[int, dict[int, dict[str, Any]]] = {}
    for x in runs:
        by.setdefault(x["workers"], {})[x["round"]] = x
    f = loadkit.fmt
    x0 = runs[0]
    lines = [
        f"# --workers scaling — {x0['started']}",
        "",
        f"omni on CPUs {x0['gw_cpu'] or 'any'} for every worker count (so the worker count is the "
        f"only difference); wrk -t{x0['wrk_threads']} -c{x0['conns']} for {x0['secs']} s after "
        f"a wrk -c8 warm-up, and the mock upstream on CPUs {x0['load_cpu'] or 'any'}; API key "
        f"sent: {'yes' if x0['auth'] else 'no'}. The order of worker counts alternates between "
        "rounds. CPU% is of one core (200% = both cores); the load side is wrk + mock. On two "
        "cores the load side shares the cores with the gateway, so RPS per gateway core-second "
        "(requests / CPU seconds used by the gateway's processes) shows the scaling without the "
        "load side's share.",
        "",
        "## Runs",
        "",
        "| round | workers | gateway processes | RPS | p50 ms | p99 ms | non-2xx | socket errors "
        "| gateway CPU% (per process) | wrk CPU% | mock CPU% | load side CPU% | busy % per core "
        "| RPS per gateway core-s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *[run_row(x) for x in runs],
        "",
        "## Summary (medians over rounds)",
        "",
        "| workers | rounds | gateway processes | RPS | gateway CPU% | load side CPU% "
        "| RPS per gateway core-s | RPS ratio vs 1 worker | per-core-s ratio vs 1 worker |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    base = by.get(1, {})
    verdicts = []
    for w in sorted(by):
        rs = by[w]
        ratios = [rs[r]["wrk"]["rps"] / base[r]["wrk"]["rps"] for r in rs if r in base]
        eff = [
            rs[r]["rps_per_gateway_core_s"] / base[r]["rps_per_gateway_core_s"]
            for r in rs
            if r in base and rs[r]["rps_per_gateway_core_s"] and base[r]["rps_per_gateway_core_s"]
        ]
        loads = [
            x["wrk_cpu_pct"] + x["mock_cpu_pct"]
            for x in rs.values()
            if x["mock_cpu_pct"] is not None
        ]
        ratio = med(ratios) if w != 1 else None
        procs = sorted({x["gateway_procs"] for x in rs.values()})
        lines.append(
            f"| {w} | {len(rs)} | {', '.join(map(str, procs))} "
            f"| {f(med([x['wrk']['rps'] for x in rs.values()]))} "
            f"| {f(med([x['gateway_cpu_pct'] for x in rs.values()]))} | {f(med(loads))} "
            f"| {f(med([x['rps_per_gateway_core_s'] for x in rs.values()]), 0)} "
            f"| {f(ratio, 2)} | {f(med(eff) if w != 1 else None, 2)} |"
        )
        if ratio is not None:
            spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
            ok = "met" if ratio >= GOAL_RATIO else "not met"
            note = " (one process served: workers not active)" if procs == [1] else ""
            verdicts.append(
                f"- `--workers {w}`: RPS ratio {ratio:.2f}x (rounds {spread}) against the "
                f"≥ {GOAL_RATIO}x goal: **{ok}**{note}"
            )
    errors = sum(x["wrk"]["errors_total"] for x in runs)
    lines += ["", "## Verdict", "", *verdicts, f"- errors over all runs: {errors}", ""]
    Path(folder, "report.md").write_text("\n".join(lines))
    print("\n".join(verdicts), flush=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure", help="one measured run against a running gateway")
    m.add_argument("--pid", type=int, required=True, help="gateway root PID")
    m.add_argument("--target", required=True, help="gateway base URL (no /v1)")
    m.add_argument("--model", default="mock/gpt-4o-mini")
    m.add_argument("--key", default="")
    m.add_argument("--mock", default="http://127.0.0.1:18080")
    m.add_argument("--mock-pid", type=int, default=0)
    m.add_argument("--workers", type=int, required=True, help="the --workers omni was started with")
    m.add_argument("--round", type=int, default=1)
    m.add_argument("--order", type=int, default=0, help="position within the round")
    m.add_argument("--conns", type=int, default=64)
    m.add_argument("--secs", type=int, default=15)
    m.add_argument("--warmup-secs", type=int, default=3)
    m.add_argument("--load-cpu", default="", help="CPU list for wrk ('' = unpinned)")
    m.add_argument("--gw-cpu", default=os.environ.get("GW_CPU", ""), help="recorded only")
    m.add_argument("--out", required=True, help="JSON file")
    r = sub.add_parser("report", help="aggregate a folder of runs into report.md")
    r.add_argument("folder")
    args = ap.parse_args()
    return measure(args) if args.cmd == "measure" else report(args.folder)


if __name__ == "__main__":
    sys.exit(main())
