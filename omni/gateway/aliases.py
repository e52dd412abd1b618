"""User model aliases: a name a client may ask for, and the model string it stands for.

Pure: no I/O. An alias is either an exact name (``fast`` → ``groq/llama-3.3-70b``) or a
glob pattern with ``*`` (any run of characters, ``/`` included) and ``?`` (one
character): ``claude-*`` → ``anthropic/claude-sonnet-4-5``, ``gpt-4*`` → ``openai/gpt-4o``.

Resolution, once per model string (an alias's target is never aliased again):

1. an exact alias of that name;
2. else the most specific matching pattern: the one with the most literal characters,
   then the fewest wildcards, then by name, so ``claude-sonnet-*`` beats ``claude-*``;
3. else the model string is unchanged.

A ``*`` in a pattern's target is replaced by what the pattern's wildcards matched, in
order: ``claude-*`` → ``anthropic/claude-*`` sends ``claude-opus-4-1`` to
``anthropic/claude-opus-4-1``. A target has at most as many ``*`` as its pattern has
wildcards (checked by :func:`check_alias`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

WILDCARDS = ("*", "?")
MAX_LENGTH = 200


def is_pattern(alias: str) -> bool:
    """Whether ``alias`` is a glob pattern rather than an exact name."""
    return any(w in alias for w in WILDCARDS)


def _compile(pattern: str) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append("(.*)")
        elif char == "?":
            parts.append("(.)")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def _specificity(pattern: str) -> tuple[int, int, str]:
    literal = sum(1 for c in pattern if c not in WILDCARDS)
    wild = len(pattern) - literal
    return (-literal, wild, pattern)


def check_alias(alias: object, target: object) -> tuple[str, str]:
    """``(alias, target)`` stripped, or a :class:`ValueError` saying what is wrong."""
    if not isinstance(alias, str) or not alias.strip():
        raise ValueError("an alias needs a non-empty name or pattern, e.g. 'claude-*'")
    if not isinstance(target, str) or not target.strip():
        raise ValueError("an alias needs a target model, e.g. 'anthropic/claude-sonnet-4-5'")
    alias, target = alias.strip(), target.strip()
    for what, value in (("alias", alias), ("target", target)):
        if len(value) > MAX_LENGTH or any(c.isspace() or ord(c) < 32 for c in value):
            raise ValueError(f"the {what} {value!r} must be one word of at most {MAX_LENGTH} chars")
    if set(alias) <= set(WILDCARDS):
        raise ValueError(f"the pattern {alias!r} would match every model; name some of it")
    if "?" in target:
        raise ValueError(f"the target {target!r} may not contain '?'")
    stars = target.count("*")
    captures = sum(alias.count(w) for w in WILDCARDS)
    if stars > captures:
        raise ValueError(
            f"the target {target!r} has {stars} '*' but the alias {alias!r} captures "
            f"only {captures} part{'s' if captures != 1 else ''}"
        )
    if target == alias:
        raise ValueError(f"the alias {alias!r} would point at itself")
    return alias, target


@dataclass(frozen=True, slots=True)
class AliasTable:
    """Every user alias, ready for matching (built once per routing snapshot)."""

    exact: Mapping[str, str] = field(default_factory=dict)
    patterns: tuple[tuple[str, re.Pattern[str], str], ...] = ()

    @classmethod
    def build(cls, aliases: Iterable[tuple[str, str]]) -> AliasTable:
        exact: dict[str, str] = {}
        patterns: list[tuple[str, str]] = []
        for alias, target in aliases:
            if is_pattern(alias):
                patterns.append((alias, target))
            else:
                exact[alias] = target
        patterns.sort(key=lambda p: _specificity(p[0]))
        return cls(exact, tuple((a, _compile(a), t) for a, t in patterns))

    def __bool__(self) -> bool:
        return bool(self.exact or self.patterns)

    def resolve(self, model: str) -> str:
        """The model string ``model`` stands for (itself when no alias matches)."""
        found = self.exact.get(model)
        if found is not None:
            return found
        for _, regex, target in self.patterns:
            match = regex.fullmatch(model)
            if match is not None:
                return _fill(target, match.groups())
        return model

    def match(self, model: str) -> tuple[str, str] | None:
        """``(alias, target)`` of the alias that applies to ``model``, if any."""
        if model in self.exact:
            return model, self.exact[model]
        for alias, regex, target in self.patterns:
            match = regex.fullmatch(model)
            if match is not None:
                return alias, _fill(target, match.groups())
        return None


def _fill(target: str, captured: tuple[str, ...]) -> str:
    if "*" not in target:
        return target
    pieces = target.split("*")
    out = [pieces[0]]
    for i, piece in enumerate(pieces[1:]):
        out.append(captured[i] if i < len(captured) else "")
        out.append(piece)
    return "".join(out)
