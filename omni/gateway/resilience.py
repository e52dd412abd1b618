"""Failure classes and account cooldowns: when to move on, and when to leave an account be.

:func:`classify` decides what one failed attempt means for the request: try the next
target (rate limit, bad or exhausted credentials, upstream down, model missing there,
context too long for that model) or stop and return the error (a request the upstream
rejects as malformed would be rejected everywhere: never loop it over every target).

:class:`Cooldowns` keeps accounts that failed out of rotation for a while: a 429 honours
``Retry-After`` / ``x-ratelimit-reset*`` / "retry in N s" text and otherwise backs off
exponentially; bad credentials cool for long; a flaky upstream briefly. In-process state
(the scale-out backend will share it).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal

from multidict import CIMultiDictProxy

from omni.gateway.policy import DEFAULT_PROFILES, BreakerProfile

Action = Literal["next", "stop"]

# 400-class bodies that mean "this target cannot serve it" rather than "the request is bad".
_FALL_THROUGH = re.compile(
    r"context.{0,20}(length|window|limit)|maximum context|too many (input )?tokens|prompt is too "
    r"long|model.{0,40}(not found|does not exist|not available|not supported|unavailable)|"
    r"no access to model|not have access|unsupported model|exceeds? the (model|max)",
    re.IGNORECASE,
)
_RETRY_IN = re.compile(r"(?:retry|try again) (?:in|after) (\d+(?:\.\d+)?)\s*(ms|s|sec|seconds?)?",
                       re.IGNORECASE)  # fmt: skip

BASE_429_COOLDOWN_S = 5.0
MAX_COOLDOWN_S = 600.0
AUTH_COOLDOWN_S = 300.0
SERVER_ERROR_COOLDOWN_S = 2.0


@dataclass(slots=True)
class Failure:
    """One attempt that failed before anything reached the client."""

    status: int  # the upstream's status, or 502/504 for transport failures
    message: str
    code: str
    retry_after: float | None = None  # seconds, when the upstream said
    action: Action = "next"
    client_status: int | None = None  # the status the client gets if this is the last word


def classify(status: int, message: str) -> Action:
    """Whether a failed attempt with this status and error text should move on."""
    if status in (400, 422):
        return "next" if _FALL_THROUGH.search(message) else "stop"
    if status in (401, 402, 403, 404, 408, 409, 413, 429) or status >= 500:
        return "next"
    return "stop"


def retry_after(headers: CIMultiDictProxy[str], message: str) -> float | None:
    """Seconds the upstream asked us to wait, from its headers or its error text."""
    value = headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    for name in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens", "x-ratelimit-reset"):
        value = headers.get(name)
        if value:
            seconds = _duration(value)
            if seconds is not None:
                return seconds
    match = _RETRY_IN.search(message)
    if match:
        amount = float(match.group(1))
        return amount / 1000 if (match.group(2) or "s").lower() == "ms" else amount
    return None


def _duration(value: str) -> float | None:
    """``"20s"``, ``"1m30s"``, ``"250ms"``, ``"12"`` (seconds) or a Unix time → seconds."""
    text = value.strip().lower()
    try:
        number = float(text)
    except ValueError:
        total, found = 0.0, False
        for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text):
            found = True
            total += float(amount) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
        return total if found else None
    return max(0.0, number - time.time()) if number > 1e9 else number


class Cooldowns:
    """Which accounts are resting, until when, and how often they failed in a row."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.resting: dict[int, float] = {}  # account → rests until (monotonic time)
        self._strikes: dict[int, int] = {}

    def remaining(self, account_id: int) -> float:
        until = self.resting.get(account_id)
        if until is None:
            return 0.0
        left = until - self.clock()
        if left <= 0:
            del self.resting[account_id]
            return 0.0
        return left

    def failed(self, account_id: int, failure: Failure) -> float:
        """Put an account to rest after ``failure``; returns for how long (0: not at all)."""
        if failure.status == 429:
            strikes = self._strikes.get(account_id, 0) + 1
            self._strikes[account_id] = strikes
            seconds = failure.retry_after
            if seconds is None:
                seconds = BASE_429_COOLDOWN_S * 2 ** (strikes - 1)
        elif failure.status in (401, 402, 403):
            seconds = AUTH_COOLDOWN_S
        elif failure.status >= 500 or failure.status == 408:
            seconds = SERVER_ERROR_COOLDOWN_S
        else:
            return 0.0
        seconds = min(seconds, MAX_COOLDOWN_S)
        if seconds > 0:
            self.resting[account_id] = self.clock() + seconds
        return seconds

    def succeeded(self, account_id: int) -> None:
        if self._strikes:
            self._strikes.pop(account_id, None)

    def snapshot(self) -> dict[int, float]:
        """Accounts resting now and the seconds left (for the admin API and the TUI)."""
        return {a: left for a in list(self.resting) if (left := self.remaining(a)) > 0}

    def reset(self) -> None:
        self.resting.clear()
        self._strikes.clear()


PROFILES = DEFAULT_PROFILES


@dataclass(slots=True)
class _Circuit:
    failures: int = 0
    open_until: float = 0.0
    trial: bool = False  # half-open: one attempt is out


class Breakers:
    """Per-provider circuit breakers: closed → open (skip the provider) → half-open (one
    trial request) → closed again on success. Only failures that say the provider itself
    is unwell count (5xx, timeouts, connection errors), not rate limits or bad requests.

    ``on_change(provider, failures, open_until_wall)`` is told when a circuit opens
    (``open_until_wall`` as Unix time) or closes (``None``), so the state can outlive a
    restart; :meth:`restore` loads it back."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, int, float | None], None] | None = None,
    ) -> None:
        self.clock = clock
        self.on_change = on_change
        self.profiles: Mapping[str, BreakerProfile] = DEFAULT_PROFILES
        self.tripped: dict[str, _Circuit] = {}  # providers that failed lately

    def restore(self, saved: Mapping[str, tuple[int, float]]) -> None:
        """Reopen circuits saved as ``{provider: (failures, open_until as Unix time)}``."""
        offset = self.clock() - time.time()
        for provider_id, (failures, until) in saved.items():
            if until > time.time():
                self.tripped[provider_id] = _Circuit(failures, until + offset)

    def allow(self, provider_id: str) -> bool:
        circuit = self.tripped.get(provider_id)
        if circuit is None or not circuit.open_until:
            return True
        if self.clock() < circuit.open_until or circuit.trial:
            return False
        circuit.trial = True  # half-open: let one request through
        return True

    def state(self, provider_id: str) -> str:
        circuit = self.tripped.get(provider_id)
        if circuit is None or not circuit.open_until:
            return "closed"
        if self.clock() < circuit.open_until:
            return "open"
        return "half-open"

    def failed(self, provider_id: str, failure: Failure, profile: str) -> None:
        if not (failure.status >= 500 or failure.status == 408):
            return
        circuit = self.tripped.setdefault(provider_id, _Circuit())
        circuit.failures += 1
        rule = self.profiles.get(profile) or self.profiles["apikey"]
        if circuit.trial or circuit.failures >= rule.failures:
            circuit.open_until = self.clock() + rule.open_s
            circuit.trial = False
            if self.on_change is not None:
                wall = time.time() + rule.open_s
                self.on_change(provider_id, circuit.failures, wall)

    def succeeded(self, provider_id: str) -> None:
        if provider_id in self.tripped:
            circuit = self.tripped.pop(provider_id)
            if circuit.open_until and self.on_change is not None:
                self.on_change(provider_id, 0, None)

    def retry_in(self, provider_id: str) -> float:
        circuit = self.tripped.get(provider_id)
        return max(0.0, circuit.open_until - self.clock()) if circuit else 0.0

    def snapshot(self) -> dict[str, dict[str, float | int | str]]:
        return {
            pid: {
                "state": self.state(pid),
                "failures": c.failures,
                "retry_in_s": self.retry_in(pid),
            }
            for pid, c in self.tripped.items()
        }

    def reset(self) -> None:
        opened = [pid for pid, c in self.tripped.items() if c.open_until]
        self.tripped.clear()
        if self.on_change is not None:
            for provider_id in opened:
                self.on_change(provider_id, 0, None)
