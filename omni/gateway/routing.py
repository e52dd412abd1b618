"""Per-request target order: combo strategies, account strategies, session affinity, and
the capability filter.

A :class:`~omni.gateway.registry.Plan` is static (built once per model string); the
:class:`Router` turns it into the order one request tries its targets in:

- a combo's steps by the combo's strategy: ``priority``/``fill-first`` (as written),
  ``weighted`` (weighted random), ``round-robin`` (the start rotates per request),
  ``random``, ``strict-random`` (each step leads once per shuffled cycle), ``least-used``,
  ``cost-optimized`` (cheapest list price first), ``p2c`` (the healthier of two random
  steps leads), ``lkgp`` (the step that last answered leads), ``context-optimized``
  (largest context window first);
- each step's accounts by its provider's account strategy: ``fill-first`` (priority
  order), ``round-robin`` (stay on an account for :data:`STICKY_USES` requests, then move
  on), ``p2c``, ``random``, ``least-used``; a conversation that already went to an account
  goes there again first (session affinity keeps the upstream's prompt cache warm).

:func:`unmet` is the capability filter: why a target cannot serve a request (no tool
use, no vision, context window smaller than the prompt), from the catalog's facts.
In-process state; a plan with one target costs nothing here.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from omni.gateway.registry import Plan, Step
from omni.providers.catalog import ModelInfo
from omni.providers.executor import Target

STICKY_USES = 3  # round-robin stays on an account this many requests
MAX_SESSIONS = 10_000  # affinity entries kept (least recently used dropped)
_AS_WRITTEN = ("priority", "fill-first")


@dataclass(slots=True)
class Need:
    """What a request needs from a target (worked out only when a target's facts say it
    might not have it)."""

    tools: bool = False
    vision: bool = False
    tokens: int = 0  # estimated prompt tokens
    precise: bool = False  # ``tokens`` is an estimate from the content, not a bound


def unmet(info: ModelInfo, need: Need) -> str | None:
    """Why a model with ``info`` cannot serve ``need`` (None: it can)."""
    if info.capabilities:
        if need.tools and "tools" not in info.capabilities:
            return f"{info.id} cannot call tools"
        if need.vision and "vision" not in info.capabilities:
            return f"{info.id} cannot read images"
    if info.context and need.tokens > info.context:
        return f"prompt of ~{need.tokens} tokens exceeds {info.id}'s {info.context}-token context"
    return None


def session_key(obj: dict[str, Any]) -> str | None:
    """The conversation a request belongs to, from what the clients send: Codex's
    ``prompt_cache_key``, Claude Code's ``metadata.user_id`` (it names the session), the
    OpenAI ``user`` field."""
    key = obj.get("prompt_cache_key")
    if isinstance(key, str) and key:
        return key
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        user = metadata.get("user_id")
        if isinstance(user, str) and user:
            return user
    user = obj.get("user")
    return user if isinstance(user, str) and user else None


def _price(step: Step) -> float:
    info = step.targets[0].info if step.targets else None
    if info is None or info.price is None:
        return float("inf")
    return info.price.input + info.price.output


def _context(step: Step) -> int:
    info = step.targets[0].info if step.targets else None
    return -(info.context or 0) if info else 0


class Router:
    """Orders a plan's targets for each request and learns from the outcomes."""

    def __init__(
        self,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rng = rng or random.Random()
        self.clock = clock
        self.affinity_ttl = 1800.0
        self._turn: dict[str, int] = {}  # round-robin position per combo or provider
        self._sticky: dict[str, tuple[int, int]] = {}  # provider → (account index, uses)
        self._decks: dict[str, list[int]] = {}
        self._used: dict[int, int] = {}  # account → requests it answered
        self._health: dict[int, float] = {}  # account → recent failure rate (0 good, 1 bad)
        self._good: dict[str, str] = {}  # combo → step that answered last
        self._sessions: OrderedDict[tuple[str, str], tuple[int, float]] = OrderedDict()

    # -- ordering ------------------------------------------------------------------------

    def order(self, plan: Plan, session: str | None = None) -> list[tuple[Step, Target]]:
        """The (step, target) pairs to try, in order, each account once per model."""
        steps: Sequence[Step] = plan.steps
        if len(steps) == 1 and len(steps[0].targets) == 1:
            return [(steps[0], steps[0].targets[0])]
        if len(steps) > 1 and plan.strategy not in _AS_WRITTEN:
            steps = self._order_steps(plan)
        pairs: list[tuple[Step, Target]] = []
        seen: set[tuple[int, str]] = set()
        for step in steps:
            targets: Sequence[Target] = step.targets
            if len(targets) > 1:
                targets = self._order_accounts(step, session)
            for target in targets:
                key = (target.account_id, target.model)
                if key not in seen:
                    seen.add(key)
                    pairs.append((step, target))
        return pairs

    def _order_steps(self, plan: Plan) -> list[Step]:
        steps, name, rng = list(plan.steps), plan.combo or "", self.rng
        strategy = plan.strategy
        if strategy == "weighted":
            return sorted(steps, key=lambda s: rng.random() ** (1 / max(1, s.weight)), reverse=True)
        if strategy == "random":
            rng.shuffle(steps)
            return steps
        if strategy == "round-robin":
            turn = self._turn.get(name, 0)
            self._turn[name] = turn + 1
            start = turn % len(steps)
            return steps[start:] + steps[:start]
        if strategy == "strict-random":
            deck = self._decks.get(name)
            if not deck:
                deck = list(range(len(steps)))
                rng.shuffle(deck)
                self._decks[name] = deck
            lead = deck.pop() % len(steps)
            return [steps[lead], *steps[:lead], *steps[lead + 1 :]]
        if strategy == "least-used":
            return sorted(
                steps, key=lambda s: sum(self._used.get(t.account_id, 0) for t in s.targets)
            )
        if strategy == "cost-optimized":
            return sorted(steps, key=_price)
        if strategy == "context-optimized":
            return sorted(steps, key=_context)
        if strategy == "lkgp":
            good = self._good.get(name)
            return sorted(steps, key=lambda s: s.model != good)
        if strategy == "p2c":
            return self._two_choices(steps, self._step_health)
        return steps

    def _order_accounts(self, step: Step, session: str | None) -> list[Target]:
        targets = list(step.targets)
        provider = targets[0].provider_id
        strategy = step.strategy
        if strategy == "round-robin":
            index, uses = self._sticky.get(provider, (0, 0))
            if uses >= STICKY_USES:
                index, uses = index + 1, 0
            self._sticky[provider] = (index, uses + 1)
            start = index % len(targets)
            targets = targets[start:] + targets[:start]
        elif strategy == "random":
            self.rng.shuffle(targets)
        elif strategy == "least-used":
            targets.sort(key=lambda t: self._used.get(t.account_id, 0))
        elif strategy == "p2c":
            targets = self._two_choices(targets, lambda t: self._health.get(t.account_id, 0.0))
        if session is not None:
            held = self._sessions.get((session, provider))
            if held is not None and held[1] > self.clock():
                targets.sort(key=lambda t: t.account_id != held[0])
        return targets

    def _two_choices(self, items: list[Any], badness: Callable[[Any], float]) -> list[Any]:
        a, b = self.rng.sample(range(len(items)), 2)
        lead = a if (badness(items[a]), a) <= (badness(items[b]), b) else b
        return [items[lead], *items[:lead], *items[lead + 1 :]]

    def _step_health(self, step: Step) -> float:
        return min((self._health.get(t.account_id, 0.0) for t in step.targets), default=0.0)

    # -- learning ------------------------------------------------------------------------

    def succeeded(self, plan: Plan, step: Step, target: Target, session: str | None) -> None:
        account = target.account_id
        self._used[account] = self._used.get(account, 0) + 1
        if account in self._health:
            self._health[account] *= 0.7
        if plan.combo is not None:
            self._good[plan.combo] = step.model
        if session is not None and self.affinity_ttl > 0:
            key = (session, target.provider_id)
            self._sessions[key] = (account, self.clock() + self.affinity_ttl)
            self._sessions.move_to_end(key)
            if len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)

    def failed(self, target: Target) -> None:
        account = target.account_id
        self._health[account] = self._health.get(account, 0.0) * 0.7 + 0.3

    def sessions(self) -> list[dict[str, Any]]:
        """Conversations pinned to an account now (for the admin API)."""
        now = self.clock()
        return [
            {"session": s, "provider": p, "account_id": a, "expires_in_s": round(until - now)}
            for (s, p), (a, until) in self._sessions.items()
            if until > now
        ]

    def reset(self) -> None:
        self._turn.clear()
        self._sticky.clear()
        self._decks.clear()
        self._used.clear()
        self._health.clear()
        self._good.clear()
        self._sessions.clear()
