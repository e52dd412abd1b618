"""How numbers look on the dashboard: durations, latencies, money, token counts, bars.

Pure functions, so every view writes the same thing the same way, narrow enough for an
80-column terminal ("1.2k", "3m 05s", "$0.0123"); a missing value is an em dash.
"""

from __future__ import annotations

import time

NONE = "—"
_BLOCKS = " ▏▎▍▌▋▊▉█"


def duration(seconds: float | None) -> str:
    """A span of time in its two largest units: ``45s``, ``3m 05s``, ``2h 03m``, ``4d 1h``."""
    if seconds is None:
        return NONE
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def ms(value: float | None) -> str:
    """A latency: ``850 ms``, ``1.25 s``."""
    if value is None:
        return NONE
    if value < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.2f} s"


def money(value: float | None) -> str:
    """Dollars, with enough digits for the tiny costs of single requests."""
    if value is None:
        return NONE
    if value == 0:
        return "$0"
    if abs(value) < 1:
        return f"${value:.4f}"
    if abs(value) < 100:
        return f"${value:.2f}"
    return f"${value:,.0f}"


def dollars(value: float | None) -> str:
    """Dollars to the cent, for limits and budgets (``$5.00``, ``$0.50``); a non-zero
    amount under a cent keeps its digits."""
    if value is None:
        return NONE
    if value and abs(value) < 0.01:
        return money(value)
    return f"${value:,.2f}"


def count(value: float | None) -> str:
    """A count, shortened: ``950``, ``1.2k``, ``3.4M``."""
    if value is None:
        return NONE
    n = float(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            return f"{n / limit:.1f}{suffix}"
    return f"{n:.0f}"


def percent(value: float | None) -> str:
    if value is None:
        return NONE
    return f"{value * 100:.1f}%"


def clock(ts: float | None) -> str:
    """A wall-clock time of day, local: ``17:37:23``."""
    if ts is None:
        return NONE
    return time.strftime("%H:%M:%S", time.localtime(ts))


def day(ts: float) -> str:
    """The local date of a moment: ``2026-11-26``."""
    return time.strftime("%Y-%m-%d", time.localtime(ts))


def ago(now: float, ts: float | None) -> str:
    """How long ago, for "last seen" columns."""
    if ts is None:
        return "never"
    return f"{duration(now - ts)} ago"


def bar(fraction: float, width: int) -> str:
    """A horizontal bar ``width`` cells wide, filled to ``fraction`` (eighths of a cell)."""
    fraction = min(1.0, max(0.0, fraction))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_BLOCKS[part] if part else "")
    return text.ljust(width)


def middle(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters in the middle, keeping both ends (ids that
    share a prefix stay apart: ``codex…9c3b-77a1``)."""
    if len(text) <= width:
        return text
    head = max(1, (width - 1) // 2)
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
