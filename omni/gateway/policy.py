"""Routing policy: the tunable numbers of fallback, breakers, account rotation and caps.

Two JSON documents in the store's ``settings`` table, each edited through the API
(``PUT /api/resilience`` and ``PUT /api/rate-limit``) and the CLI, are parsed here into
one frozen :class:`Policy` that the routing snapshot carries:

``resilience``::

    {"profiles": {"apikey": {"failures": 12, "open_s": 30}, ...},
     "max_attempts": 8, "cooldown_wait_s": 2, "fallback_model": "openai/gpt-4o-mini",
     "account_strategy": "fill-first", "affinity_ttl_s": 1800,
     "providers": {"openai": {"account_strategy": "round-robin", "first_byte_timeout_s": 60}}}

``rate_limits``::

    {"providers": {"openai": {"rpm": 60, "tpm": 100000, "concurrency": 4}},
     "models": {"openai/gpt-4o": {"rpm": 10}},
     "accounts": {"openai/work": {"concurrency": 2}},
     "keys": {"3": {"rpm": 30, "tpm": 50000}},
     "queue": {"depth": 64, "wait_s": 30}}

A combo's own options (``retries``, ``timeout_s``, ``max_attempts`` and per-step
``weight``/``account``/``retries``/``timeout_s``) are parsed by :func:`parse_combo_config`.
Every mistake is an :class:`~omni.errors.InvalidInputError` that names the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from omni.errors import InvalidInputError

ACCOUNT_STRATEGIES = ("fill-first", "round-robin", "p2c", "random", "least-used")
BREAKER_KINDS = ("oauth", "apikey", "local")
_LIMIT_KEYS = ("rpm", "tpm", "concurrency")


@dataclass(frozen=True, slots=True)
class BreakerProfile:
    """How many failures in a row open a provider's circuit, and for how long."""

    failures: int
    open_s: float


DEFAULT_PROFILES = {
    "oauth": BreakerProfile(8, 60.0),
    "apikey": BreakerProfile(12, 30.0),
    "local": BreakerProfile(2, 15.0),
}


@dataclass(frozen=True, slots=True)
class Limit:
    """An operator cap: requests and tokens per minute, requests in flight."""

    rpm: int | None = None
    tpm: int | None = None
    concurrency: int | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    profiles: Mapping[str, BreakerProfile] = field(default_factory=lambda: DEFAULT_PROFILES)
    max_attempts: int = 8
    cooldown_wait_s: float = 2.0
    fallback_model: str | None = None
    account_strategy: str = "fill-first"
    affinity_ttl_s: float = 1800.0
    strategies: Mapping[str, str] = field(default_factory=dict)  # provider → account strategy
    timeouts: Mapping[str, float] = field(default_factory=dict)  # provider → first byte (s)
    limits: Mapping[str, Limit] = field(default_factory=dict)  # "provider:p", "model:p/m", …
    queue_depth: int = 64
    queue_wait_s: float = 30.0


@dataclass(frozen=True, slots=True)
class ComboSpec:
    """A combo as routing sees it: its steps in order and its options."""

    name: str
    strategy: str
    steps: tuple[str, ...]
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # per step
    retries: int = 0
    timeout: float | None = None
    max_attempts: int | None = None


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"'{where}' must be a JSON object")
    return value


def _known(obj: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise InvalidInputError(
            f"unknown field {', '.join(repr(u) for u in unknown)} in '{where}' "
            f"(known: {', '.join(allowed)})"
        )


def _number(value: object, where: str, *, integer: bool = False, minimum: float = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"'{where}' must be a number")
    if integer and not float(value).is_integer():
        raise InvalidInputError(f"'{where}' must be a whole number")
    if value < minimum:
        raise InvalidInputError(f"'{where}' must be at least {minimum:g}")
    return float(value)


def _strategy(value: object, where: str) -> str:
    if value not in ACCOUNT_STRATEGIES:
        raise InvalidInputError(
            f"'{where}' must be one of {', '.join(ACCOUNT_STRATEGIES)}, not {value!r}"
        )
    return str(value)


def parse_resilience(raw: object) -> dict[str, Any]:
    """Validate a ``resilience`` document; returns the keyword arguments of a Policy."""
    doc = _object(raw or {}, "resilience")
    _known(
        doc,
        ("profiles", "max_attempts", "cooldown_wait_s", "fallback_model", "account_strategy",
         "affinity_ttl_s", "providers"),
        "resilience",
    )  # fmt: skip
    out: dict[str, Any] = {}
    if "profiles" in doc:
        profiles = dict(DEFAULT_PROFILES)
        for kind, raw_spec in _object(doc["profiles"], "profiles").items():
            where = f"profiles.{kind}"
            if kind not in BREAKER_KINDS:
                raise InvalidInputError(
                    f"unknown breaker profile '{kind}' (known: oauth, apikey, local)"
                )
            spec = _object(raw_spec, where)
            _known(spec, ("failures", "open_s"), where)
            base = profiles[kind]
            failures = spec.get("failures", base.failures)
            profiles[kind] = BreakerProfile(
                int(_number(failures, f"{where}.failures", integer=True, minimum=1)),
                _number(spec.get("open_s", base.open_s), f"{where}.open_s", minimum=1),
            )
        out["profiles"] = profiles
    if "max_attempts" in doc:
        out["max_attempts"] = int(
            _number(doc["max_attempts"], "max_attempts", integer=True, minimum=1)
        )
    if "cooldown_wait_s" in doc:
        out["cooldown_wait_s"] = _number(doc["cooldown_wait_s"], "cooldown_wait_s")
    if "affinity_ttl_s" in doc:
        out["affinity_ttl_s"] = _number(doc["affinity_ttl_s"], "affinity_ttl_s")
    fallback = doc.get("fallback_model")
    if fallback is not None:
        if not isinstance(fallback, str) or not fallback.strip():
            raise InvalidInputError("'fallback_model' must be a model name or null")
        out["fallback_model"] = fallback.strip()
    if "account_strategy" in doc:
        out["account_strategy"] = _strategy(doc["account_strategy"], "account_strategy")
    strategies, timeouts = {}, {}
    for provider, raw_spec in _object(doc.get("providers", {}), "providers").items():
        where = f"providers.{provider}"
        spec = _object(raw_spec, where)
        _known(spec, ("account_strategy", "first_byte_timeout_s"), where)
        if "account_strategy" in spec:
            strategies[provider] = _strategy(spec["account_strategy"], f"{where}.account_strategy")
        if "first_byte_timeout_s" in spec:
            timeouts[provider] = _number(
                spec["first_byte_timeout_s"], f"{where}.first_byte_timeout_s", minimum=0.01
            )
    out["strategies"], out["timeouts"] = strategies, timeouts
    return out


def parse_limit(raw: object, where: str) -> Limit:
    spec = _object(raw, where)
    _known(spec, _LIMIT_KEYS, where)
    values = {
        key: int(_number(spec[key], f"{where}.{key}", integer=True, minimum=1))
        for key in _LIMIT_KEYS
        if spec.get(key) is not None
    }
    return Limit(**values)


def parse_rate_limits(raw: object) -> dict[str, Any]:
    """Validate a ``rate_limits`` document; returns the keyword arguments of a Policy."""
    doc = _object(raw or {}, "rate_limits")
    _known(doc, ("providers", "models", "accounts", "keys", "queue"), "rate_limits")
    limits: dict[str, Limit] = {}
    for name, spec in _object(doc.get("keys", {}), "keys").items():
        if not name.isdigit():
            raise InvalidInputError(f"'keys' are API key ids (see 'omni keys list'), not {name!r}")
        limit = parse_limit(spec, f"keys.{name}")
        if limit != Limit():
            limits[f"key:{name}"] = limit
    for scope, prefix in (("providers", "provider"), ("models", "model"), ("accounts", "account")):
        for name, spec in _object(doc.get(scope, {}), scope).items():
            if scope != "providers" and "/" not in name:
                raise InvalidInputError(
                    f"'{scope}' keys are written 'provider/"
                    + ("model" if scope == "models" else "account")
                    + f"', not {name!r}"
                )
            limit = parse_limit(spec, f"{scope}.{name}")
            if limit != Limit():
                limits[f"{prefix}:{name}"] = limit
    out: dict[str, Any] = {"limits": limits}
    queue = _object(doc.get("queue", {}), "queue")
    _known(queue, ("depth", "wait_s"), "queue")
    if "depth" in queue:
        out["queue_depth"] = int(_number(queue["depth"], "queue.depth", integer=True))
    if "wait_s" in queue:
        out["queue_wait_s"] = _number(queue["wait_s"], "queue.wait_s")
    return out


def build_policy(resilience: object, rate_limits: object) -> Policy:
    return Policy(**parse_resilience(resilience), **parse_rate_limits(rate_limits))


_STEP_KEYS = ("weight", "account", "retries", "timeout_s")


def parse_combo_config(raw: object, steps: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Validate a combo's options; returns them cleaned (JSON-ready)."""
    doc = _object(raw or {}, "config")
    _known(doc, ("retries", "timeout_s", "max_attempts", "steps"), "config")
    out: dict[str, Any] = {}
    if doc.get("retries") is not None:
        out["retries"] = int(_number(doc["retries"], "config.retries", integer=True))
    if doc.get("timeout_s") is not None:
        out["timeout_s"] = _number(doc["timeout_s"], "config.timeout_s", minimum=0.01)
    if doc.get("max_attempts") is not None:
        out["max_attempts"] = int(
            _number(doc["max_attempts"], "config.max_attempts", integer=True, minimum=1)
        )
    per_step: dict[str, dict[str, Any]] = {}
    for step, raw_spec in _object(doc.get("steps", {}), "config.steps").items():
        where = f"config.steps.{step}"
        if step not in steps:
            raise InvalidInputError(f"'{where}': '{step}' is not one of the combo's steps")
        spec = _object(raw_spec, where)
        _known(spec, _STEP_KEYS, where)
        clean: dict[str, Any] = {}
        if spec.get("weight") is not None:
            clean["weight"] = int(_number(spec["weight"], f"{where}.weight", integer=True))
        if spec.get("retries") is not None:
            clean["retries"] = int(_number(spec["retries"], f"{where}.retries", integer=True))
        if spec.get("timeout_s") is not None:
            clean["timeout_s"] = _number(spec["timeout_s"], f"{where}.timeout_s", minimum=0.01)
        if spec.get("account") is not None:
            if not isinstance(spec["account"], str) or not spec["account"]:
                raise InvalidInputError(f"'{where}.account' must be an account name")
            clean["account"] = spec["account"]
        if clean:
            per_step[step] = clean
    if per_step:
        out["steps"] = per_step
    return out


def combo_spec(name: str, strategy: str, steps: tuple[str, ...], config: object) -> ComboSpec:
    clean = parse_combo_config(config, steps)
    return ComboSpec(
        name,
        strategy,
        steps,
        clean.get("steps", {}),
        clean.get("retries", 0),
        clean.get("timeout_s"),
        clean.get("max_attempts"),
    )
