"""What a request cost at list prices, from the upstream's token counts.

Prices come from the catalog (USD per 1M tokens: input, cached input, cache write,
output) and the user's overrides (``/api/pricing``), resolved per ``(provider, model)``
into the routing snapshot. Cached reads and cache writes are billed at their own rates
when the price table has them (else at the input rate); reasoning tokens are part of the
output. A model without a known price costs ``None``, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omni.errors import InvalidInputError
from omni.ir import Usage
from omni.providers.catalog import PRICE_FIELDS, Price


def cost_of(price: Price, usage: Usage) -> float:
    """USD for ``usage`` at ``price``."""
    cache_read = usage.cache_read or 0
    cache_write = usage.cache_write or 0
    fresh = max(0, (usage.input or 0) - cache_read - cache_write)
    total = fresh * price.input + (usage.output or 0) * price.output
    total += cache_read * (price.input if price.cached_input is None else price.cached_input)
    total += cache_write * (price.input if price.cache_write is None else price.cache_write)
    return total / 1_000_000


def parse_overrides(raw: object) -> dict[str, Price]:
    """Validate the ``pricing`` document: ``{"provider/model": {"input": …, "output": …}}``."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidInputError("pricing must be a JSON object of 'provider/model' entries")
    prices: dict[str, Price] = {}
    for name, spec in raw.items():
        if "/" not in name:
            raise InvalidInputError(f"pricing keys are written 'provider/model', not {name!r}")
        if not isinstance(spec, Mapping):
            raise InvalidInputError(f"pricing '{name}' must be an object of prices")
        unknown = sorted(set(spec) - set(PRICE_FIELDS))
        if unknown:
            raise InvalidInputError(
                f"unknown price {', '.join(repr(u) for u in unknown)} for '{name}' "
                f"(known: {', '.join(PRICE_FIELDS)})"
            )
        values: dict[str, Any] = {}
        for key, value in spec.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise InvalidInputError(f"price '{name}'.{key} must be a number ≥ 0 (USD per 1M)")
            values[key] = float(value)
        if "input" not in values or "output" not in values:
            raise InvalidInputError(f"pricing '{name}' needs at least 'input' and 'output'")
        prices[name] = Price(**values)
    return prices
