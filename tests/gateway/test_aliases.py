"""User model aliases: exact names first, then the most specific glob pattern, with the
matched part carried into a target's '*'."""

from __future__ import annotations

import pytest

from omni.gateway.aliases import AliasTable, check_alias


def test_exact_alias_wins_over_a_pattern() -> None:
    table = AliasTable.build([("gpt-4*", "openai/gpt-4o"), ("gpt-4-legacy", "openai/gpt-4.1")])
    assert table.resolve("gpt-4-legacy") == "openai/gpt-4.1"
    assert table.resolve("gpt-4-turbo") == "openai/gpt-4o"
    assert table.resolve("gpt-3.5") == "gpt-3.5", "no alias: the model string is unchanged"


def test_the_most_specific_pattern_wins_whatever_the_order() -> None:
    pairs = [("claude-*", "anthropic/claude-sonnet-4-5"), ("claude-opus-*", "anthropic/opus")]
    for order in (pairs, list(reversed(pairs))):
        table = AliasTable.build(order)
        assert table.resolve("claude-opus-9") == "anthropic/opus"
        assert table.resolve("claude-3-haiku") == "anthropic/claude-sonnet-4-5"


def test_star_in_the_target_takes_the_matched_part() -> None:
    table = AliasTable.build([("claude-*", "anthropic/claude-*"), ("*/free", "openrouter/*:free")])
    assert table.resolve("claude-opus-4-1") == "anthropic/claude-opus-4-1"
    assert table.resolve("meta/llama-3/free") == "openrouter/meta/llama-3:free"
    assert table.match("claude-x") == ("claude-*", "anthropic/claude-x")
    assert table.match("other") is None


def test_question_mark_matches_one_character_and_the_whole_name_must_match() -> None:
    table = AliasTable.build([("o?", "openai/o3")])
    assert table.resolve("o4") == "openai/o3"
    assert table.resolve("o44") == "o44"
    assert table.resolve("xo4") == "xo4"


@pytest.mark.parametrize(
    ("alias", "target", "problem"),
    [
        ("", "a/b", "non-empty name"),
        ("x", " ", "needs a target"),
        ("*", "a/b", "every model"),
        ("a b", "a/b", "one word"),
        ("fast", "x/*", "captures only 0 parts"),
        ("fast", "fast", "itself"),
        ("g-*", "a/?", "may not contain '?'"),
    ],
)
def test_bad_aliases_are_refused(alias: str, target: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_alias(alias, target)
