"""Pieces shared by bench/soak.py and bench/scale.py: load generation and /proc accounting.

The process-tree helpers (RSS, CPU ticks, per-core busy) and the request body come from the
shared harness's run.py, so these scripts measure exactly the way the side-by-side run does.
"""

import importlib.util
import json
import os
import signal
import subprocess
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HARNESS = Path(os.environ.get("BENCH_HARNESS") or HERE.parent.parent / "shared" / "bench")


def _load_harness() -> Any:
    spec = importlib.util.spec_from_file_location("harness_run", HARNESS / "run.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"harness not found: {HARNESS}/run.py (set BENCH_HARNESS)")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


harness = _load_harness()
LUA = str(HARNESS / "lib" / "post.lua")
CLK = harness.CLK
rss_mb = harness.rss_mb
tree = harness.tree
cpu_ticks = harness.cpu_ticks
per_cpu_busy = harness.per_cpu_busy


def cpu_ticks_one(pid: int) -> int:
    """utime + stime of one process (all its threads), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return int(parts[11]) + int(parts[12])
    except (OSError, IndexError, ValueError):
        return 0


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so `finally` blocks stop the load generator."""

    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)


def pinned(cmd: list[str], cpus: str) -> list[str]:
    """Prefix a command with taskset when a CPU list is given ("" = unpinned)."""
    return ["taskset", "-c", cpus, *cmd] if cpus else cmd


class Wrk:
    """One wrk run with the harness's post.lua and chat body, started in the background."""

    def __init__(self, target: str, model: str, key: str, conns: int, secs: int, cpus: str):
        self.threads = int(os.environ.get("WRK_THREADS", "1"))
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(harness.chat_body(model), f)
            self.body_file = f.name
        env = dict(
            os.environ,
            WRK_PATH="/v1/chat/completions",
            WRK_BODY_FILE=self.body_file,
            WRK_AUTH=key,
            WRK_XAPIKEY="",
            WRK_ANTHROPIC="0",
        )
        cmd = ["wrk", f"-t{self.threads}", f"-c{conns}", f"-d{secs}s", "--timeout", "10s"]
        cmd += ["-s", LUA, target.rstrip("/")]
        self.proc = subprocess.Popen(
            pinned(cmd, cpus), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def result(self, timeout: float) -> dict[str, Any]:
        """Wait for wrk and return its WRKJSON summary plus error totals."""
        out, err = self.proc.communicate(timeout=timeout)
        os.unlink(self.body_file)
        for line in out.splitlines():
            if line.startswith("WRKJSON "):
                r: dict[str, Any] = json.loads(line[8:])
                e = r["errors"]
                r["non2xx"] = e["status"]
                r["socket_errors"] = e["connect"] + e["read"] + e["write"] + e["timeout"]
                r["errors_total"] = r["non2xx"] + r["socket_errors"]
                return r
        raise RuntimeError(f"wrk produced no summary: {out[-500:]} {err[-500:]}")

    def kill(self) -> None:
        if self.running():
            self.proc.kill()
            self.proc.wait()
        if os.path.exists(self.body_file):
            os.unlink(self.body_file)


def mock_chat_count(mock: str) -> int | None:
    """Chat completions the mock upstream has answered so far (None if it cannot say)."""
    try:
        with urllib.request.urlopen(mock.rstrip("/") + "/__mock/stats", timeout=2) as r:
            return int(json.load(r)["chat"])
    except (OSError, ValueError, KeyError):
        return None


def core_busy(c0: dict[int, tuple[int, int]], c1: dict[int, tuple[int, int]]) -> dict[str, float]:
    """Busy % of each core between two per_cpu_busy() readings."""
    return {
        str(k): round(100.0 * (c1[k][0] - c0[k][0]) / max(1, c1[k][1] - c0[k][1]), 1)
        for k in c1
        if k in c0
    }


def cores(busy: dict[str, float]) -> str:
    """'cpu0 93 / cpu1 100' for a report cell."""
    return " / ".join(f"cpu{k} {v:.0f}" for k, v in sorted(busy.items(), key=lambda kv: int(kv[0])))


def fmt(v: float | None, digits: int = 1) -> str:
    """A number for a markdown table: thousands separators, '-' for missing."""
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"
